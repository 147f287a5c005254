//! Metric data points as OTLP records ([`OtlpRecords`]): the unit the export queue holds and
//! counts is one data point; an export groups the points of a batch into their metrics (the
//! points of one metric are queued together), under one resource and scope, with the prost
//! structs of `opentelemetry-proto` (protobuf by prost, OTLP JSON by its serde mapping: int64
//! values and times as strings, camelCase).

use std::sync::Arc;

use opentelemetry::InstrumentationScope;
use opentelemetry_proto::{
    tonic::{
        collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse},
        common::v1::InstrumentationScope as ProtoScope,
        metrics::v1::{
            metric::Data, AggregationTemporality, Histogram, HistogramDataPoint, Metric,
            MetricsData, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
        },
        resource::v1::Resource as ProtoResource,
    },
    transform::common::tonic::ResourceAttributesWithSchema,
};
use opentelemetry_sdk::Resource;
use prost::Message as _;

use super::aggregate::Kind;
use crate::layers::otel::records::OtlpRecords;

/// The instrumentation scope the metrics are reported under.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScopeInfo {
    pub(crate) scope: ProtoScope,
    pub(crate) schema_url: String,
}

impl ScopeInfo {
    pub(crate) fn new(scope: &InstrumentationScope) -> Self {
        Self {
            scope: ProtoScope::from((scope, None)),
            schema_url: scope.schema_url().unwrap_or_default().to_owned(),
        }
    }
}

/// What the points of one metric in one collection share.
#[derive(Debug, PartialEq)]
pub(crate) struct MetricInfo {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// Delta temporality (else cumulative).
    pub(crate) delta: bool,
    pub(crate) scope: Arc<ScopeInfo>,
}

/// One data point, the record the metrics export queue holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetricPoint {
    pub(crate) metric: Arc<MetricInfo>,
    pub(crate) data: PointData,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PointData {
    Number(NumberDataPoint),
    Histogram(HistogramDataPoint),
}

/// The metrics of `points`, grouped by scope and metric (consecutive points of the same
/// metric and scope make one group), all from `resource`.
pub(crate) fn resource_metrics(
    points: impl IntoIterator<Item = MetricPoint>,
    resource: &ResourceAttributesWithSchema,
) -> ResourceMetrics {
    let mut scopes: Vec<(Arc<ScopeInfo>, Vec<Metric>)> = Vec::new();
    let mut current: Option<(Arc<MetricInfo>, Metric)> = None;
    let finish = |scopes: &mut Vec<(Arc<ScopeInfo>, Vec<Metric>)>,
                  done: Option<(Arc<MetricInfo>, Metric)>| {
        let Some((info, metric)) = done else { return };
        match scopes.last_mut() {
            Some((scope, metrics)) if Arc::ptr_eq(scope, &info.scope) => metrics.push(metric),
            _ => scopes.push((Arc::clone(&info.scope), vec![metric])),
        }
    };
    for point in points {
        let same = matches!(&current, Some((info, _)) if Arc::ptr_eq(info, &point.metric));
        if !same {
            let metric = empty_metric(&point.metric);
            finish(
                &mut scopes,
                current.replace((Arc::clone(&point.metric), metric)),
            );
        }
        if let Some((_, metric)) = current.as_mut() {
            match (&mut metric.data, point.data) {
                (Some(Data::Sum(sum)), PointData::Number(data)) => sum.data_points.push(data),
                (Some(Data::Histogram(histogram)), PointData::Histogram(data)) => {
                    histogram.data_points.push(data)
                }
                // A metric's points are all of its kind (see `aggregate.rs`).
                _ => {}
            }
        }
    }
    finish(&mut scopes, current.take());
    ResourceMetrics {
        resource: Some(ProtoResource {
            attributes: resource.attributes.0.clone(),
            dropped_attributes_count: 0,
            entity_refs: Vec::new(),
        }),
        scope_metrics: scopes
            .into_iter()
            .map(|(scope, metrics)| ScopeMetrics {
                scope: Some(scope.scope.clone()),
                metrics,
                schema_url: scope.schema_url.clone(),
            })
            .collect(),
        schema_url: resource.schema_url.clone().unwrap_or_default(),
    }
}

fn empty_metric(info: &MetricInfo) -> Metric {
    let temporality = if info.delta {
        AggregationTemporality::Delta
    } else {
        AggregationTemporality::Cumulative
    } as i32;
    let data = match info.kind {
        Kind::MonotonicCounter | Kind::UpDownCounter => Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: temporality,
            is_monotonic: info.kind == Kind::MonotonicCounter,
        }),
        Kind::Histogram => Data::Histogram(Histogram {
            data_points: Vec::new(),
            aggregation_temporality: temporality,
        }),
    };
    Metric {
        name: info.name.clone(),
        description: String::new(),
        unit: String::new(),
        metadata: Vec::new(),
        data: Some(data),
    }
}

impl OtlpRecords for MetricPoint {
    const GRPC_METHOD: &'static str =
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    const JSON_REJECTED: &'static str = "rejectedDataPoints";

    fn encode_protobuf(batch: &[Self], resource: &Resource, out: &mut Vec<u8>) {
        let resource = ResourceAttributesWithSchema::from(resource);
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![resource_metrics(batch.iter().cloned(), &resource)],
        };
        out.reserve(request.encoded_len());
        // Encoding into a `Vec` that has room cannot fail.
        let _ = request.encode(out);
    }

    fn encode_json(
        batch: &mut Vec<Self>,
        resource: &ResourceAttributesWithSchema,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let data = MetricsData {
            resource_metrics: vec![resource_metrics(std::mem::take(batch), resource)],
        };
        serde_json::to_writer(out, &data)
            .map_err(|error| format!("cannot encode the metrics as JSON: {error}"))
    }

    fn rejected_protobuf(answer: &[u8]) -> Option<(u64, String)> {
        let partial = ExportMetricsServiceResponse::decode(answer)
            .ok()?
            .partial_success?;
        let rejected = u64::try_from(partial.rejected_data_points)
            .ok()
            .filter(|&n| n > 0)?;
        Some((rejected, partial.error_message))
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use opentelemetry_proto::tonic::{
        collector::metrics::v1::ExportMetricsPartialSuccess, metrics::v1::number_data_point,
    };

    use super::{
        super::aggregate::{Aggregator, Attribute, Number},
        *,
    };
    use crate::layers::otel::{config::Temporality, records::rejected_json};

    fn points() -> Vec<MetricPoint> {
        let aggregator = Aggregator::new("test".into());
        let attributes = vec![
            ("method", Attribute::Str("GET".into())),
            ("status", Attribute::I64(200)),
        ];
        aggregator
            .record(Kind::MonotonicCounter, "calls", Number::U64(2), &attributes)
            .unwrap();
        aggregator
            .record(Kind::MonotonicCounter, "calls", Number::U64(1), &Vec::new())
            .unwrap();
        aggregator
            .record(Kind::Histogram, "ms", Number::F64(12.5), &attributes)
            .unwrap();
        let scope = opentelemetry::InstrumentationScope::builder("lib")
            .with_version("1.0")
            .with_schema_url("https://opentelemetry.io/schemas/1.26.0")
            .build();
        aggregator.collect(
            Temporality::Cumulative,
            &Arc::new(ScopeInfo::new(&scope)),
            SystemTime::now(),
        )
    }

    fn resource() -> Resource {
        Resource::builder_empty()
            .with_service_name("metrics-test")
            .build()
    }

    #[test]
    fn protobuf_groups_points_into_their_metrics_under_one_scope() {
        let mut body = Vec::new();
        MetricPoint::encode_protobuf(&points(), &resource(), &mut body);
        let request = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap();
        let [resource_metrics] = request.resource_metrics.as_slice() else {
            panic!("one resource")
        };
        assert_eq!(
            resource_metrics.resource.as_ref().unwrap().attributes[0].key,
            "service.name"
        );
        let [scope_metrics] = resource_metrics.scope_metrics.as_slice() else {
            panic!("one scope")
        };
        let scope = scope_metrics.scope.as_ref().unwrap();
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("lib", "1.0")
        );
        assert_eq!(
            scope_metrics.schema_url,
            "https://opentelemetry.io/schemas/1.26.0"
        );
        let [calls, ms] = scope_metrics.metrics.as_slice() else {
            panic!("two metrics: {:?}", scope_metrics.metrics)
        };
        assert_eq!(calls.name, "calls");
        let Some(Data::Sum(sum)) = &calls.data else {
            panic!("a sum")
        };
        assert!(sum.is_monotonic);
        assert_eq!(
            sum.aggregation_temporality,
            AggregationTemporality::Cumulative as i32
        );
        let mut values: Vec<_> = sum.data_points.iter().map(|point| point.value).collect();
        values.sort_by_key(|value| format!("{value:?}"));
        assert_eq!(
            values,
            [
                Some(number_data_point::Value::AsInt(1)),
                Some(number_data_point::Value::AsInt(2))
            ]
        );
        let Some(Data::Histogram(histogram)) = &ms.data else {
            panic!("a histogram")
        };
        assert_eq!(histogram.data_points[0].count, 1);
        assert_eq!(histogram.data_points[0].sum, Some(12.5));
    }

    #[test]
    fn json_is_the_otlp_mapping_of_metrics_data() {
        let mut line = Vec::new();
        let resource = ResourceAttributesWithSchema::from(&resource());
        MetricPoint::encode_json(&mut points(), &resource, &mut line).unwrap();
        let data: MetricsData = serde_json::from_slice(&line).expect("MetricsData");
        assert_eq!(data.resource_metrics[0].scope_metrics[0].metrics.len(), 2);
        let raw: serde_json::Value = serde_json::from_slice(&line).unwrap();
        let calls = &raw["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0];
        assert_eq!(calls["name"], "calls");
        assert_eq!(calls["sum"]["isMonotonic"], true);
        let point = calls["sum"]["dataPoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|point| {
                point["attributes"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
            })
            .unwrap();
        assert_eq!(point["asInt"], "2", "int64 as a string");
        assert!(point["timeUnixNano"].is_string());
        assert_eq!(point["attributes"][0]["key"], "method");
        assert_eq!(point["attributes"][1]["value"]["intValue"], "200");
        let histogram = &raw["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][1]["histogram"];
        assert_eq!(histogram["dataPoints"][0]["count"], "1");
        assert_eq!(histogram["dataPoints"][0]["bucketCounts"][3], "1");
    }

    #[test]
    fn partial_success_counts_rejected_data_points() {
        let answer = ExportMetricsServiceResponse {
            partial_success: Some(ExportMetricsPartialSuccess {
                rejected_data_points: 3,
                error_message: "too many series".into(),
            }),
        };
        assert_eq!(
            MetricPoint::rejected_protobuf(&answer.encode_to_vec()),
            Some((3, "too many series".to_owned()))
        );
        assert_eq!(
            rejected_json::<MetricPoint>(
                br#"{"partialSuccess":{"rejectedDataPoints":"2","errorMessage":"x"}}"#
            ),
            Some((2, "x".to_owned()))
        );
    }
}
