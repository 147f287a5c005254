//! Aggregation of the measurements that event fields make: one sum per series of a counter or
//! up-down counter, one explicit-bucket histogram per series of a histogram (a series: the
//! metric and one set of attributes). Every measurement is added under one lock, so that
//! concurrent events are counted exactly; [`Aggregator::collect`] turns the series into OTLP
//! data points, and for delta temporality starts them over.
//!
//! The number type of a counter (integer or floating-point) is set by its first value:
//! integers added to a floating-point counter are converted, a floating-point value given to
//! an integer counter is rejected (and reported) rather than silently truncated. Histogram
//! points are floating-point in OTLP whatever the values.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::SystemTime,
};

use opentelemetry_proto::tonic::{
    common::v1::{any_value, AnyValue, KeyValue},
    metrics::v1::{number_data_point, HistogramDataPoint, NumberDataPoint},
};

use super::encode::{MetricInfo, MetricPoint, PointData, ScopeInfo};
use crate::layers::otel::config::Temporality;

/// The OpenTelemetry SDKs' default explicit bucket boundaries.
pub(crate) const DEFAULT_BOUNDARIES: [f64; 15] = [
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// The instrument a field prefix names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// `monotonic_counter.<name>`: a sum that only grows.
    MonotonicCounter,
    /// `counter.<name>`: a sum that goes up and down.
    UpDownCounter,
    /// `histogram.<name>`: a distribution.
    Histogram,
}

impl Kind {
    /// The instrument and the metric name of a field named `<prefix><name>`; `None` for any
    /// other field (an attribute), and for a bare prefix without a name.
    pub(crate) fn of_field(field: &'static str) -> Option<(Kind, &'static str)> {
        [
            (Kind::MonotonicCounter, "monotonic_counter."),
            (Kind::UpDownCounter, "counter."),
            (Kind::Histogram, "histogram."),
        ]
        .into_iter()
        .find_map(|(kind, prefix)| {
            field
                .strip_prefix(prefix)
                .filter(|name| !name.is_empty())
                .map(|name| (kind, name))
        })
    }
}

/// A numeric field value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    U64(u64),
    I64(i64),
    F64(f64),
}

/// An attribute value, hashable (floating-point values by their bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Attribute {
    Str(Box<str>),
    Bool(bool),
    I64(i64),
    F64(u64),
}

/// A data point's attributes, sorted by key.
pub(crate) type Attributes = Vec<(&'static str, Attribute)>;

/// Why a measurement was not recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rejection {
    /// A negative value for a monotonic counter.
    Negative,
    /// NaN or an infinity.
    NotFinite,
    /// A floating-point value for a counter whose values were integers.
    FloatForIntegers,
    /// Not a number: what it was (`a string`, ...).
    NotANumber(String),
    /// After the layer's last export (it was shutting down).
    Late,
}

impl Rejection {
    /// Why, for the report: `it is negative, and a monotonic counter only grows`.
    pub(crate) fn explain(&self) -> String {
        match self {
            Rejection::Negative => {
                "it is negative, and a monotonic counter only grows (use `counter.<name>` for an \
                 up-down counter)"
                    .to_owned()
            }
            Rejection::NotFinite => "it is not a finite number".to_owned(),
            Rejection::FloatForIntegers => {
                "it is a floating-point number and the metric's earlier values were integers \
                 (give every value of one metric the same type: cast them all to f64)"
                    .to_owned()
            }
            Rejection::NotANumber(what) => {
                format!("it is {what}, not a number (metric fields take integers or floats)")
            }
            Rejection::Late => "it came after the layer's last export".to_owned(),
        }
    }
}

/// The number type of a sum, set by its first value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberType {
    Int,
    Double,
}

#[derive(Debug)]
struct MetricState {
    kind: Kind,
    name: &'static str,
    number: Option<NumberType>,
    series: HashMap<Attributes, Series>,
}

#[derive(Debug)]
struct Series {
    /// The series' first measurement: the start of its cumulative points.
    start: SystemTime,
    value: Value,
}

#[derive(Debug)]
enum Value {
    Int(i128),
    Double(f64),
    Histogram(HistogramState),
}

#[derive(Debug, Clone, PartialEq)]
struct HistogramState {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    buckets: [u64; DEFAULT_BOUNDARIES.len() + 1],
}

impl HistogramState {
    fn new() -> Self {
        Self {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            buckets: [0; DEFAULT_BOUNDARIES.len() + 1],
        }
    }

    fn record(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        // Bucket i holds (boundaries[i-1], boundaries[i]]; the last one everything above.
        let bucket = DEFAULT_BOUNDARIES.partition_point(|&bound| bound < value);
        self.buckets[bucket] += 1;
    }
}

#[derive(Debug)]
struct Store {
    /// In the order they were first measured, so that exports list them alike every time.
    metrics: Vec<MetricState>,
    index: HashMap<(Kind, &'static str), usize>,
    /// The last collection (the start of the next delta points); at first, the layer's start.
    last_collection: SystemTime,
    /// After the last collection of a layer shutting down: measurements are rejected.
    closed: bool,
}

/// Measurements that were not recorded, by field.
#[derive(Debug, Default)]
pub(crate) struct Rejections {
    /// Field name → (count, why the first one was rejected).
    pub(crate) by_field: BTreeMap<String, (u64, String)>,
}

impl Rejections {
    pub(crate) fn total(&self) -> u64 {
        self.by_field.values().map(|(count, _)| count).sum()
    }
}

/// The measurements of one layer.
#[derive(Debug)]
pub(crate) struct Aggregator {
    store: Mutex<Store>,
    rejections: Mutex<Rejections>,
    /// Names the layer in the first report of a field's rejected value.
    description: String,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update leaves the state consistent, so a panic elsewhere leaves it usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Aggregator {
    pub(crate) fn new(description: String) -> Self {
        Self {
            store: Mutex::new(Store {
                metrics: Vec::new(),
                index: HashMap::new(),
                last_collection: SystemTime::now(),
                closed: false,
            }),
            rejections: Mutex::new(Rejections::default()),
            description,
        }
    }

    /// Adds `value` to the series of metric `name` with `attributes`.
    pub(crate) fn record(
        &self,
        kind: Kind,
        name: &'static str,
        value: Number,
        attributes: &Attributes,
    ) -> Result<(), Rejection> {
        let checked = check(kind, value)?;
        let mut store = lock(&self.store);
        if store.closed {
            return Err(Rejection::Late);
        }
        let index = match store.index.get(&(kind, name)) {
            Some(&index) => index,
            None => {
                let index = store.metrics.len();
                store.metrics.push(MetricState {
                    kind,
                    name,
                    number: None,
                    series: HashMap::new(),
                });
                store.index.insert((kind, name), index);
                index
            }
        };
        let metric = &mut store.metrics[index];
        let number = match (metric.number, checked) {
            (_, Checked::Double(_)) if kind == Kind::Histogram => NumberType::Double,
            (Some(NumberType::Int), Checked::Double(_)) => return Err(Rejection::FloatForIntegers),
            (Some(number), _) => number,
            (None, Checked::Int(_)) => NumberType::Int,
            (None, Checked::Double(_)) => NumberType::Double,
        };
        metric.number = Some(number);
        let series = match metric.series.get_mut(attributes) {
            Some(series) => series,
            None => {
                let value = match (kind, number) {
                    (Kind::Histogram, _) => Value::Histogram(HistogramState::new()),
                    (_, NumberType::Int) => Value::Int(0),
                    (_, NumberType::Double) => Value::Double(0.0),
                };
                // A cumulative series starts with its first measurement; delta points start
                // at the last collection instead (see `collect`).
                let start = SystemTime::now();
                metric
                    .series
                    .entry(attributes.clone())
                    .or_insert(Series { start, value })
            }
        };
        match (&mut series.value, checked) {
            (Value::Histogram(histogram), checked) => histogram.record(checked.as_f64()),
            (Value::Int(sum), Checked::Int(value)) => *sum += value,
            (Value::Double(sum), checked) => *sum += checked.as_f64(),
            // An integer series of a double metric cannot exist: the type is the metric's.
            (Value::Int(_), Checked::Double(_)) => return Err(Rejection::FloatForIntegers),
        }
        Ok(())
    }

    /// Counts a rejected value of `field`; the first of each field is reported on stderr at
    /// once.
    pub(crate) fn reject(&self, field: &str, rejection: &Rejection, shown: &dyn Fn() -> String) {
        let mut rejections = lock(&self.rejections);
        if let Some((count, _)) = rejections.by_field.get_mut(field) {
            *count += 1;
            return;
        }
        let why = rejection.explain();
        eprintln!(
            "tracing-bridge: {}: metric field `{field}` = {} was not recorded: {why}; such values \
             are counted and reported when the layer shuts down",
            self.description,
            shown()
        );
        rejections.by_field.insert(field.to_owned(), (1, why));
    }

    /// The rejected values so far.
    pub(crate) fn rejections(&self) -> Rejections {
        let rejections = lock(&self.rejections);
        Rejections {
            by_field: rejections.by_field.clone(),
        }
    }

    /// Rejects every measurement from now on (the layer's last collection is next).
    pub(crate) fn close(&self) {
        lock(&self.store).closed = true;
    }

    /// The data points of every series, at `now`, under `scope`. With delta `temporality`,
    /// counters and histograms start over (up-down counters stay cumulative, as the
    /// specification's delta preference says).
    pub(crate) fn collect(
        &self,
        temporality: Temporality,
        scope: &Arc<ScopeInfo>,
        now: SystemTime,
    ) -> Vec<MetricPoint> {
        let mut store = lock(&self.store);
        let interval_start = store.last_collection;
        store.last_collection = now;
        let time = nanos(now);
        let mut points = Vec::new();
        for metric in &mut store.metrics {
            if metric.series.is_empty() {
                continue;
            }
            let delta = delta_series(metric.kind, temporality);
            let info = Arc::new(MetricInfo {
                name: metric.name.to_owned(),
                kind: metric.kind,
                delta,
                scope: Arc::clone(scope),
            });
            let mut add = |attributes: &Attributes, series: &Series| {
                let start = if delta { interval_start } else { series.start };
                points.push(MetricPoint {
                    metric: Arc::clone(&info),
                    data: point(attributes, series, nanos(start), time),
                });
            };
            if delta {
                for (attributes, series) in metric.series.drain() {
                    add(&attributes, &series);
                }
            } else {
                for (attributes, series) in &metric.series {
                    add(attributes, series);
                }
            }
        }
        points
    }
}

/// Whether series of `kind` are exported as deltas under `temporality`.
fn delta_series(kind: Kind, temporality: Temporality) -> bool {
    kind != Kind::UpDownCounter && temporality != Temporality::Cumulative
}

/// A measurement that is valid for its instrument.
#[derive(Debug, Clone, Copy)]
enum Checked {
    Int(i128),
    Double(f64),
}

impl Checked {
    fn as_f64(self) -> f64 {
        match self {
            Checked::Int(value) => value as f64,
            Checked::Double(value) => value,
        }
    }
}

fn check(kind: Kind, value: Number) -> Result<Checked, Rejection> {
    let checked = match value {
        Number::U64(value) => Checked::Int(i128::from(value)),
        Number::I64(value) => Checked::Int(i128::from(value)),
        Number::F64(value) if !value.is_finite() => return Err(Rejection::NotFinite),
        Number::F64(value) => Checked::Double(value),
    };
    let negative = match checked {
        Checked::Int(value) => value < 0,
        Checked::Double(value) => value < 0.0,
    };
    if kind == Kind::MonotonicCounter && negative {
        return Err(Rejection::Negative);
    }
    Ok(checked)
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The OTLP attributes of a series.
pub(crate) fn key_values(attributes: &Attributes) -> Vec<KeyValue> {
    attributes
        .iter()
        .map(|(key, value)| KeyValue {
            key: (*key).to_owned(),
            value: Some(AnyValue {
                value: Some(match value {
                    Attribute::Str(text) => any_value::Value::StringValue(text.to_string()),
                    Attribute::Bool(flag) => any_value::Value::BoolValue(*flag),
                    Attribute::I64(number) => any_value::Value::IntValue(*number),
                    Attribute::F64(bits) => any_value::Value::DoubleValue(f64::from_bits(*bits)),
                }),
            }),
            key_strindex: 0,
        })
        .collect()
}

fn point(attributes: &Attributes, series: &Series, start: u64, time: u64) -> PointData {
    let attributes = key_values(attributes);
    let number = |value| NumberDataPoint {
        attributes: attributes.clone(),
        start_time_unix_nano: start,
        time_unix_nano: time,
        exemplars: Vec::new(),
        flags: 0,
        value: Some(value),
    };
    match &series.value {
        Value::Int(sum) => {
            // OTLP integers are int64: a sum beyond it saturates.
            let sum = i64::try_from(*sum).unwrap_or(if *sum < 0 { i64::MIN } else { i64::MAX });
            PointData::Number(number(number_data_point::Value::AsInt(sum)))
        }
        Value::Double(sum) => PointData::Number(number(number_data_point::Value::AsDouble(*sum))),
        Value::Histogram(histogram) => PointData::Histogram(HistogramDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: time,
            count: histogram.count,
            sum: Some(histogram.sum),
            bucket_counts: histogram.buckets.to_vec(),
            explicit_bounds: DEFAULT_BOUNDARIES.to_vec(),
            exemplars: Vec::new(),
            flags: 0,
            min: (histogram.count > 0).then_some(histogram.min),
            max: (histogram.count > 0).then_some(histogram.max),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Arc<ScopeInfo> {
        Arc::new(ScopeInfo::new(
            &opentelemetry::InstrumentationScope::builder("test").build(),
        ))
    }

    fn attributes(pairs: &[(&'static str, i64)]) -> Attributes {
        pairs
            .iter()
            .map(|(key, value)| (*key, Attribute::I64(*value)))
            .collect()
    }

    fn number(point: &MetricPoint) -> number_data_point::Value {
        match &point.data {
            PointData::Number(point) => point.value.unwrap(),
            PointData::Histogram(_) => panic!("a histogram point"),
        }
    }

    fn histogram(point: &MetricPoint) -> &HistogramDataPoint {
        match &point.data {
            PointData::Histogram(point) => point,
            PointData::Number(_) => panic!("a number point"),
        }
    }

    #[test]
    fn fields_name_their_instrument_by_prefix() {
        assert_eq!(
            Kind::of_field("monotonic_counter.calls"),
            Some((Kind::MonotonicCounter, "calls"))
        );
        assert_eq!(
            Kind::of_field("counter.queue.depth"),
            Some((Kind::UpDownCounter, "queue.depth"))
        );
        assert_eq!(
            Kind::of_field("histogram.ms"),
            Some((Kind::Histogram, "ms"))
        );
        for other in ["calls", "counter", "counter.", "gauge.x", "my.counter.x"] {
            assert_eq!(Kind::of_field(other), None, "{other}");
        }
    }

    #[test]
    fn concurrent_measurements_are_counted_exactly() {
        let aggregator = Arc::new(Aggregator::new("test".into()));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let aggregator = Arc::clone(&aggregator);
                std::thread::spawn(move || {
                    for index in 0..250u64 {
                        let even = attributes(&[("even", i64::from(index % 2 == 0))]);
                        aggregator
                            .record(Kind::MonotonicCounter, "calls", Number::U64(1), &even)
                            .unwrap();
                        aggregator
                            .record(Kind::Histogram, "ms", Number::U64(index % 10), &even)
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let points = aggregator.collect(Temporality::Cumulative, &scope(), SystemTime::now());
        let calls: i64 = points
            .iter()
            .filter(|point| point.metric.name == "calls")
            .map(|point| match number(point) {
                number_data_point::Value::AsInt(value) => value,
                other => panic!("{other:?}"),
            })
            .sum();
        assert_eq!(calls, 1000);
        let (count, sum) = points
            .iter()
            .filter(|point| point.metric.name == "ms")
            .map(histogram)
            .fold((0, 0.0), |(count, sum), point| {
                (count + point.count, sum + point.sum.unwrap())
            });
        assert_eq!((count, sum), (1000, 4500.0));
        assert_eq!(points.len(), 4, "two series of each metric");
    }

    #[test]
    fn histograms_count_into_the_default_buckets_with_min_and_max() {
        let aggregator = Aggregator::new("test".into());
        for value in [0.0, 5.0, 5.5, 10_000.0, 10_001.0, -3.0] {
            aggregator
                .record(Kind::Histogram, "h", Number::F64(value), &Vec::new())
                .unwrap();
        }
        aggregator
            .record(Kind::Histogram, "h", Number::I64(7), &Vec::new())
            .unwrap();
        let points = aggregator.collect(Temporality::Cumulative, &scope(), SystemTime::now());
        let point = histogram(&points[0]);
        assert_eq!(point.count, 7);
        assert_eq!(
            point.sum,
            Some(0.0 + 5.0 + 5.5 + 10_000.0 + 10_001.0 - 3.0 + 7.0)
        );
        assert_eq!((point.min, point.max), (Some(-3.0), Some(10_001.0)));
        assert_eq!(point.explicit_bounds, DEFAULT_BOUNDARIES.to_vec());
        // (-inf, 0]: 0 and -3; (0, 5]: 5; (5, 10]: 5.5 and 7; (7500, 10000]: 10000; above: 10001.
        let mut expected = vec![0u64; 16];
        expected[0] = 2;
        expected[1] = 1;
        expected[2] = 2;
        expected[14] = 1;
        expected[15] = 1;
        assert_eq!(point.bucket_counts, expected);
    }

    #[test]
    fn bad_values_are_rejected_with_their_reason() {
        let aggregator = Aggregator::new("test".into());
        let none = Vec::new();
        let record = |kind, value| aggregator.record(kind, "x", value, &none);
        assert_eq!(
            record(Kind::MonotonicCounter, Number::I64(-1)),
            Err(Rejection::Negative)
        );
        assert_eq!(
            record(Kind::MonotonicCounter, Number::F64(-0.5)),
            Err(Rejection::Negative)
        );
        assert_eq!(
            record(Kind::Histogram, Number::F64(f64::NAN)),
            Err(Rejection::NotFinite)
        );
        assert_eq!(record(Kind::UpDownCounter, Number::I64(-2)), Ok(()));
        assert_eq!(
            record(Kind::UpDownCounter, Number::F64(1.5)),
            Err(Rejection::FloatForIntegers)
        );
        assert_eq!(record(Kind::MonotonicCounter, Number::F64(0.5)), Ok(()));
        assert_eq!(
            record(Kind::MonotonicCounter, Number::U64(2)),
            Ok(()),
            "integers join a float counter"
        );
        let points = aggregator.collect(Temporality::Cumulative, &scope(), SystemTime::now());
        assert_eq!(number(&points[0]), number_data_point::Value::AsInt(-2));
        assert_eq!(number(&points[1]), number_data_point::Value::AsDouble(2.5));
        aggregator.reject("histogram.x", &Rejection::NotFinite, &|| "NaN".into());
        aggregator.reject("histogram.x", &Rejection::NotFinite, &|| "NaN".into());
        let rejections = aggregator.rejections();
        assert_eq!(rejections.total(), 2);
        assert_eq!(
            rejections.by_field["histogram.x"],
            (2, "it is not a finite number".to_owned())
        );
        aggregator.close();
        assert_eq!(
            record(Kind::UpDownCounter, Number::I64(1)),
            Err(Rejection::Late)
        );
    }

    #[test]
    fn delta_starts_over_at_each_collection_and_up_down_counters_stay_cumulative() {
        let aggregator = Aggregator::new("test".into());
        let none = Vec::new();
        let scope = scope();
        let started = SystemTime::now();
        aggregator
            .record(Kind::MonotonicCounter, "c", Number::U64(3), &none)
            .unwrap();
        aggregator
            .record(Kind::UpDownCounter, "u", Number::I64(5), &none)
            .unwrap();
        let first_time = SystemTime::now();
        let first = aggregator.collect(Temporality::Delta, &scope, first_time);
        assert_eq!(first.len(), 2);
        assert!(first[0].metric.delta && !first[1].metric.delta);
        let PointData::Number(counter) = &first[0].data else {
            panic!()
        };
        assert!(counter.start_time_unix_nano <= nanos(started));
        assert_eq!(counter.time_unix_nano, nanos(first_time));
        aggregator
            .record(Kind::MonotonicCounter, "c", Number::U64(4), &none)
            .unwrap();
        let second_time = first_time + std::time::Duration::from_millis(5);
        let second = aggregator.collect(Temporality::Delta, &scope, second_time);
        assert_eq!(number(&second[0]), number_data_point::Value::AsInt(4));
        assert_eq!(number(&second[1]), number_data_point::Value::AsInt(5));
        let PointData::Number(counter) = &second[0].data else {
            panic!()
        };
        assert_eq!(
            (counter.start_time_unix_nano, counter.time_unix_nano),
            (nanos(first_time), nanos(second_time)),
            "a delta point starts at the previous collection"
        );
        let third = aggregator.collect(Temporality::Delta, &scope, SystemTime::now());
        assert_eq!(third.len(), 1, "no counter point without measurements");
        assert_eq!(third[0].metric.name, "u");

        let cumulative = Aggregator::new("test".into());
        cumulative
            .record(Kind::MonotonicCounter, "c", Number::U64(3), &none)
            .unwrap();
        let once = cumulative.collect(Temporality::Cumulative, &scope, SystemTime::now());
        cumulative
            .record(Kind::MonotonicCounter, "c", Number::U64(4), &none)
            .unwrap();
        let twice = cumulative.collect(Temporality::Cumulative, &scope, SystemTime::now());
        assert_eq!(number(&twice[0]), number_data_point::Value::AsInt(7));
        let (PointData::Number(once), PointData::Number(twice)) = (&once[0].data, &twice[0].data)
        else {
            panic!()
        };
        assert_eq!(once.start_time_unix_nano, twice.start_time_unix_nano);
    }
}
