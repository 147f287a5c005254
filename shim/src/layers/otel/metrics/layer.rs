//! The layer that turns event fields into measurements, by the convention of
//! `tracing-opentelemetry`'s `MetricsLayer`: `monotonic_counter.<name>`, `counter.<name>` and
//! `histogram.<name>` fields are measurements of metric `<name>`, the event's other fields the
//! attributes of each. Which fields of a callsite are measurements is decided once per
//! callsite; an event whose callsite has none costs one lookup.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, PoisonError, RwLock},
};

use tracing::{
    callsite::Identifier,
    field::{Field, Visit},
    Event, Metadata, Subscriber,
};
use tracing_subscriber::{
    layer::{Context, Layer},
    registry::LookupSpan,
};

use super::aggregate::{Aggregator, Attribute, Attributes, Kind, Number, Rejection};

/// What each field of a callsite is: a measurement of a metric, or `None`: an attribute.
type Plan = Arc<[Option<(Kind, &'static str)>]>;

/// Records measurements into an [`Aggregator`].
pub(crate) struct MetricsLayer {
    aggregator: Arc<Aggregator>,
    /// Per callsite: its plan, or `None` when no field is a measurement.
    plans: RwLock<HashMap<Identifier, Option<Plan>>>,
    /// Held while the layer exists (see `LayerToken`).
    _token: Arc<LayerToken>,
}

/// The lifecycle holds another `Arc` of it: once the layer is dropped, no event can reach the
/// aggregator any more.
#[derive(Debug, Default)]
pub(crate) struct LayerToken;

impl MetricsLayer {
    pub(crate) fn new(aggregator: Arc<Aggregator>, token: Arc<LayerToken>) -> Self {
        Self {
            aggregator,
            plans: RwLock::new(HashMap::new()),
            _token: token,
        }
    }

    fn plan(&self, metadata: &'static Metadata<'static>) -> Option<Plan> {
        let id = metadata.callsite();
        if let Some(plan) = self
            .plans
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return plan.clone();
        }
        let roles: Vec<_> = metadata
            .fields()
            .iter()
            .map(|field| Kind::of_field(field.name()))
            .collect();
        let plan = roles.iter().any(Option::is_some).then(|| Plan::from(roles));
        self.plans
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, plan.clone());
        plan
    }
}

impl<S> Layer<S> for MetricsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let Some(plan) = self.plan(event.metadata()) else {
            return;
        };
        let mut visitor = Visitor {
            plan: &plan,
            attributes: Vec::new(),
            measurements: Vec::new(),
            rejected: Vec::new(),
        };
        event.record(&mut visitor);
        let Visitor {
            mut attributes,
            measurements,
            rejected,
            ..
        } = visitor;
        attributes.sort_by(|a, b| a.0.cmp(b.0));
        attributes.dedup_by(|later, earlier| later.0 == earlier.0);
        for (field, kind, name, value) in measurements {
            if let Err(rejection) = self.aggregator.record(kind, name, value, &attributes) {
                self.aggregator
                    .reject(field, &rejection, &|| shown_number(value));
            }
        }
        for (field, rejection, shown) in rejected {
            self.aggregator.reject(field, &rejection, &|| shown.clone());
        }
    }
}

fn shown_number(value: Number) -> String {
    match value {
        Number::U64(value) => value.to_string(),
        Number::I64(value) => value.to_string(),
        Number::F64(value) => format!("{value:?}"),
    }
}

type Measurement = (&'static str, Kind, &'static str, Number);

struct Visitor<'a> {
    plan: &'a Plan,
    attributes: Attributes,
    measurements: Vec<Measurement>,
    /// Values of metric fields that are not numbers: the field, why, the value as shown.
    rejected: Vec<(&'static str, Rejection, String)>,
}

impl Visitor<'_> {
    fn role(&self, field: &Field) -> Option<(Kind, &'static str)> {
        self.plan.get(field.index()).copied().flatten()
    }

    fn number(&mut self, field: &Field, value: Number, attribute: Attribute) {
        match self.role(field) {
            Some((kind, name)) => self.measurements.push((field.name(), kind, name, value)),
            None => self.attributes.push((field.name(), attribute)),
        }
    }

    fn other(&mut self, field: &Field, attribute: Attribute, what: &str) {
        if self.role(field).is_none() {
            self.attributes.push((field.name(), attribute));
            return;
        }
        let shown = match &attribute {
            Attribute::Str(text) => format!("{:?}", truncated(text)),
            Attribute::Bool(flag) => flag.to_string(),
            Attribute::I64(number) => number.to_string(),
            Attribute::F64(bits) => format!("{:?}", f64::from_bits(*bits)),
        };
        self.rejected
            .push((field.name(), Rejection::NotANumber(what.to_owned()), shown));
    }
}

/// At most 100 characters of `text`, for a message.
fn truncated(text: &str) -> String {
    let mut shown: String = text.chars().take(100).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

impl Visit for Visitor<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        // Like spans' attributes: an integer that fits an i64, else its decimal text.
        let attribute = match i64::try_from(value) {
            Ok(value) => Attribute::I64(value),
            Err(_) => Attribute::Str(value.to_string().into()),
        };
        self.number(field, Number::U64(value), attribute);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.number(field, Number::I64(value), Attribute::I64(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.number(field, Number::F64(value), Attribute::F64(value.to_bits()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.other(field, Attribute::Bool(value), "a boolean");
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.other(field, Attribute::Str(value.into()), "a string");
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.other(
            field,
            Attribute::Str(text.into()),
            "a value of another type (only 64-bit integers and floats count)",
        );
    }
}
