//! Where spans and events go once a config is installed: one dispatcher per installation,
//! built around a fixed number of swappable layer slots (`switch.rs`), over a registry
//! that knows when the thread is dispatching (`guarded_registry.rs`).
//!
//! Layer kinds build their layers over [`BaseSubscriber`] and hand them over as a
//! [`BoxedLayer`]; the session loads them into the slots.

use tracing_subscriber::Layer;

mod guarded_registry;
mod switch;

pub(crate) use guarded_registry::dispatching_now;
#[cfg(feature = "otlp")]
pub(crate) use switch::Detach;
pub(crate) use switch::{span_recorded_by, SlotLayerConfig, Switch};
#[cfg(feature = "otlp")]
pub(crate) use switch::{with_layers_of_span_reachable, with_span_layers_reachable};
pub use switch::{BaseLayer, BaseSubscriber, MAX_LAYERS};

/// A type-erased layer over the subscriber every configuration's layers are built on.
pub type BoxedLayer = Box<dyn Layer<BaseSubscriber> + Send + Sync + 'static>;
