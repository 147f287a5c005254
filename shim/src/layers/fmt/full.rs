//! The `full` format without colours, writing the same bytes as `tracing_subscriber`'s
//! `Format<Full, _>` but keeping each span's context (`outer{a=1}:inner{b=2}:`) in the span,
//! so that an event inside 20 nested spans copies one string instead of walking and formatting
//! 20 spans.
//!
//! The context of a span is made the first time an event inside it is formatted: its parent's
//! context (made the same way) and its own name and fields. Recording a field into any span
//! ([`RecordWatcher`]) makes every kept context stale; each is made again when next needed.
//! With colours, thread names or ids, files or lines, the layer uses `tracing_subscriber`'s
//! format itself ([`super::build`] chooses).

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use tracing::{span, Event, Level, Subscriber};
use tracing_subscriber::{
    fmt::{
        format::{DefaultFields, Format, Full, Writer},
        time::FormatTime,
        FmtContext, FormatEvent, FormatFields, FormattedFields,
    },
    layer::Context,
    registry::{LookupSpan, SpanRef},
    Layer,
};

use super::time::Timer;

static NEXT_FORMAT: AtomicU64 = AtomicU64::new(1);

/// The `full` format with each span's context kept in the span.
pub(super) struct CachedFull {
    /// `tracing_subscriber`'s own, for a writer with colours.
    inner: Format<Full, Timer>,
    /// `None`: no timestamp.
    timer: Option<Timer>,
    level: bool,
    target: bool,
    /// Which format made a kept context (two fmt layers can filter different spans out).
    id: u64,
    /// Bumped by [`RecordWatcher`]: contexts made before are stale.
    generation: Arc<AtomicU64>,
}

impl CachedFull {
    pub(super) fn new(
        inner: Format<Full, Timer>,
        timer: Option<Timer>,
        level: bool,
        target: bool,
        generation: Arc<AtomicU64>,
    ) -> Self {
        Self {
            inner,
            timer,
            level,
            target,
            id: NEXT_FORMAT.fetch_add(1, Ordering::Relaxed),
            generation,
        }
    }

    /// The context of `span` (root first, each `name{fields}:`), from its extensions, else
    /// made from its parent's and kept.
    fn context<S>(&self, span: &SpanRef<'_, S>, generation: u64) -> String
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(text) = self.kept(span, generation, |text| text.to_owned()) {
            return text;
        }
        let mut text = match span.parent() {
            Some(parent) => self.context(&parent, generation),
            None => String::new(),
        };
        text.push_str(span.metadata().name());
        if let Some(fields) = span.extensions().get::<FormattedFields<DefaultFields>>() {
            if !fields.is_empty() {
                text.push('{');
                text.push_str(fields);
                text.push('}');
            }
        }
        text.push(':');
        let mut extensions = span.extensions_mut();
        let entry = (self.id, generation, text.clone());
        match extensions.get_mut::<KeptContexts>() {
            Some(kept) => match kept.0.iter_mut().find(|(id, _, _)| *id == self.id) {
                Some(slot) => *slot = entry,
                None => kept.0.push(entry),
            },
            None => extensions.insert(KeptContexts(vec![entry])),
        }
        text
    }

    /// Calls `use_text` with the context kept in `span` by this format, if it is current.
    fn kept<S, R>(
        &self,
        span: &SpanRef<'_, S>,
        generation: u64,
        use_text: impl FnOnce(&str) -> R,
    ) -> Option<R>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let extensions = span.extensions();
        let kept = extensions.get::<KeptContexts>()?;
        kept.0
            .iter()
            .find(|(id, made, _)| *id == self.id && *made == generation)
            .map(|(_, _, text)| use_text(text))
    }
}

/// The contexts kept in a span: `(format id, generation, text)`.
struct KeptContexts(Vec<(u64, u64, String)>);

impl<S> FormatEvent<S, DefaultFields> for CachedFull
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, DefaultFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // A record logged through `log` shows its own target and leaves out its `log.*`
        // fields: `tracing-subscriber`'s format does that (`crate::log_bridge`).
        if writer.has_ansi_escapes() || crate::log_bridge::is_log(event) {
            return self.inner.format_event(ctx, writer, event);
        }
        let meta = event.metadata();
        if let Some(timer) = &self.timer {
            if timer.format_time(&mut writer).is_err() {
                writer.write_str("<unknown time>")?;
            }
            writer.write_char(' ')?;
        }
        if self.level {
            writer.write_str(match *meta.level() {
                Level::TRACE => "TRACE ",
                Level::DEBUG => "DEBUG ",
                Level::INFO => " INFO ",
                Level::WARN => " WARN ",
                Level::ERROR => "ERROR ",
            })?;
        }
        if let Some(leaf) = ctx.event_scope().and_then(|mut scope| scope.next()) {
            let generation = self.generation.load(Ordering::Acquire);
            match self.kept(&leaf, generation, |text| writer.write_str(text)) {
                Some(written) => written?,
                None => writer.write_str(&self.context(&leaf, generation))?,
            }
            writer.write_char(' ')?;
        }
        if self.target {
            writer.write_str(meta.target())?;
            writer.write_str(": ")?;
        }
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Makes kept contexts stale when a span's fields change.
pub(super) struct RecordWatcher(pub(super) Arc<AtomicU64>);

impl<S: Subscriber> Layer<S> for RecordWatcher {
    fn on_record(&self, _id: &span::Id, _values: &span::Record<'_>, _ctx: Context<'_, S>) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io,
        sync::{Arc, Mutex},
    };

    use tracing_subscriber::{
        fmt::{self as tfmt, format::FmtSpan, MakeWriter},
        layer::SubscriberExt,
        Registry,
    };

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Buffer {
        /// The lines, without the close events' timings (each layer measures its own).
        fn text(&self) -> String {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .map(|line| line.split(" time.busy=").next().unwrap_or(line))
                .collect::<Vec<_>>()
                .join("\n")
        }
    }

    #[tracing::instrument]
    fn fib(index: u32) -> u64 {
        tracing::debug!("computing");
        let value = if index < 2 {
            u64::from(index)
        } else {
            fib(index - 1) + fib(index - 2)
        };
        tracing::info!(value, "computed");
        value
    }

    fn run(target: bool, level: bool) -> (String, String) {
        let (plain, cached) = (Buffer::default(), Buffer::default());
        let generation = Arc::new(AtomicU64::new(0));
        let format = CachedFull::new(
            tfmt::format()
                .with_target(target)
                .with_level(level)
                .without_time()
                .with_timer(Timer::Utc),
            None,
            level,
            target,
            Arc::clone(&generation),
        );
        let subscriber = Registry::default()
            .with(
                tfmt::layer()
                    .with_writer(plain.clone())
                    .with_ansi(false)
                    .without_time()
                    .with_target(target)
                    .with_level(level)
                    .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE),
            )
            .with(
                tfmt::layer()
                    .with_writer(cached.clone())
                    .with_ansi(false)
                    .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
                    .event_format(format)
                    .and_then(RecordWatcher(generation)),
            );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(outside = true, "no span");
            fib(5);
            let job = tracing::info_span!("job", result = tracing::field::Empty, attempt = 1);
            let _job = job.enter();
            let step = tracing::debug_span!("step");
            let _step = step.enter();
            tracing::warn!("before");
            // Recorded into the parent after the child's context was made.
            job.record("result", "done");
            tracing::error!(code = 7, "after");
            tracing::info!(parent: &job, "explicit parent");
            tracing::info!(parent: None, "explicit root");
        });
        (plain.text(), cached.text())
    }

    #[test]
    fn writes_the_same_bytes_as_tracing_subscribers_full_format() {
        for (target, level) in [(true, true), (false, true), (true, false)] {
            let (plain, cached) = run(target, level);
            assert!(plain.contains("result=\"done\""), "{plain}");
            assert!(plain.lines().count() > 30, "{plain}");
            assert_eq!(cached, plain, "target {target}, level {level}");
        }
    }
}
