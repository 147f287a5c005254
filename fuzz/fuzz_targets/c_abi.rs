//! The C ABI: a fuzzer-chosen sequence of calls on a few subscribers, as a C or JavaScript
//! caller could make them, with fuzzer-chosen lengths, indices, handles and bytes. Every call
//! must return a code (a panic aborts the run: libfuzzer-sys reports it before `catch_unwind`
//! could hide it). Pointers stay valid, as the header requires; everything else is arbitrary.
//!
//! Configs are either raw fuzzer bytes (only those that fail to parse, or whose layers are all
//! JS layers, so that no fuzzer-chosen path is created) or templates with a fuzzer-chosen
//! filter and outputs in a scratch directory.
#![no_main]

use std::ptr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tracing_bridge::{config::LayerConfig, ffi::*, tracing_bridge_result, Config};

#[derive(Debug, Arbitrary)]
enum Call {
    NewRaw(Vec<u8>),
    NewTemplate {
        template: u8,
        filter: String,
    },
    InstallGlobal(u8),
    InstallCurrentThread(u8),
    Flush(u8),
    FlushWithMessage {
        subscriber: u8,
        len: u8,
        null_out: bool,
    },
    Stop(u8),
    Shutdown {
        subscriber: u8,
        len: u8,
    },
    Uninstall(u8),
    Free(u8),
    DroppedSpans(u8),
    SetFilter {
        subscriber: u8,
        directives: Vec<u8>,
    },
    SetLayerFilter {
        subscriber: u8,
        layer: u32,
        directives: Vec<u8>,
    },
    LastError {
        len: u16,
        null_buf: bool,
    },
    Attach {
        subscriber: u8,
        detach: bool,
        shared_len: u16,
    },
    Drain {
        subscriber: u8,
        layer: u32,
        len: u16,
    },
    JsDropped {
        subscriber: u8,
        layer: u32,
    },
    Callsite {
        kind: u32,
        level: u32,
        spec: Vec<u8>,
    },
    SpanNew {
        callsite: u8,
        parent: u32,
        values: Vec<u8>,
        /// Through `tracing_bridge_js_span_new_entered`.
        entered: bool,
    },
    Event {
        callsite: u8,
        parent: u32,
        values: Vec<u8>,
    },
    Enter(u32),
    Exit(u32),
    End(u32),
    OpenCount,
    RemoteParent {
        span: u32,
        traceparent: Vec<u8>,
        tracestate: Vec<u8>,
    },
    TraceContext {
        span: u32,
        len: u16,
    },
    NativeEvent(String),
}

/// What one run has made, released at its end.
#[derive(Default)]
struct State {
    subscribers: Vec<*mut tracing_bridge_subscriber>,
    callsites: Vec<u32>,
    spans: Vec<u32>,
    /// Memory lent to `js_attach`; kept until every subscriber is freed.
    shared: Vec<Vec<u8>>,
}

impl State {
    fn subscriber(&self, index: u8) -> *mut tracing_bridge_subscriber {
        if self.subscribers.is_empty() {
            return ptr::null_mut();
        }
        self.subscribers[usize::from(index) % self.subscribers.len()]
    }

    fn callsite(&self, index: u8) -> u32 {
        if self.callsites.is_empty() {
            return u32::from(index);
        }
        self.callsites[usize::from(index) % self.callsites.len()]
    }

    /// A handle the run made (most of the time) or the fuzzer's number as is.
    fn span(&self, handle: u32) -> u32 {
        if self.spans.is_empty() || handle & 1 == 1 {
            return handle;
        }
        self.spans[(handle as usize >> 1) % self.spans.len()]
    }
}

unsafe extern "C" fn wake(_layer: u32, _direct_length: u32) {}

fuzz_target!(|calls: Vec<Call>| {
    let mut state = State::default();
    for call in calls.into_iter().take(64) {
        unsafe { run(&mut state, call) };
    }
    unsafe {
        for span in state.spans.drain(..) {
            let _ = tracing_bridge_js_span_end(span);
        }
        for subscriber in state.subscribers.drain(..) {
            tracing_bridge_subscriber_free(subscriber);
        }
    }
});

unsafe fn run(state: &mut State, call: Call) {
    match call {
        Call::NewRaw(bytes) => {
            let safe = match std::str::from_utf8(&bytes).map(Config::from_json) {
                Ok(Ok(config)) => config
                    .layers
                    .iter()
                    .all(|layer| matches!(layer, LayerConfig::Js(_))),
                _ => true,
            };
            if safe {
                new(state, &bytes);
            }
        }
        Call::NewTemplate { template, filter } => {
            let config = template_config(template, &filter);
            new(state, config.as_bytes());
        }
        Call::InstallGlobal(index) => {
            tracing_bridge_subscriber_install_global(state.subscriber(index));
        }
        Call::InstallCurrentThread(index) => {
            tracing_bridge_subscriber_install_current_thread(state.subscriber(index));
        }
        Call::Flush(index) => {
            tracing_bridge_subscriber_flush(state.subscriber(index));
        }
        Call::FlushWithMessage {
            subscriber,
            len,
            null_out,
        } => {
            let mut message = vec![0u8; usize::from(len)];
            let mut written = 0usize;
            let out = if null_out {
                ptr::null_mut()
            } else {
                &mut written as *mut usize
            };
            tracing_bridge_subscriber_flush_with_message(
                state.subscriber(subscriber),
                message.as_mut_ptr(),
                message.len(),
                out,
            );
        }
        Call::Stop(index) => {
            tracing_bridge_subscriber_stop(state.subscriber(index));
        }
        Call::Shutdown { subscriber, len } => {
            let mut message = vec![0u8; usize::from(len)];
            let mut written = 0usize;
            let result = tracing_bridge_subscriber_shutdown(
                state.subscriber(subscriber),
                message.as_mut_ptr(),
                message.len(),
                &mut written,
            );
            assert!(result == tracing_bridge_result::Ok || written > 0);
        }
        Call::Uninstall(index) => {
            tracing_bridge_subscriber_uninstall(state.subscriber(index));
        }
        Call::Free(index) => {
            if !state.subscribers.is_empty() {
                let at = usize::from(index) % state.subscribers.len();
                tracing_bridge_subscriber_free(state.subscribers.swap_remove(at));
            } else {
                tracing_bridge_subscriber_free(ptr::null_mut());
            }
        }
        Call::DroppedSpans(index) => {
            let mut count = 0u64;
            tracing_bridge_subscriber_dropped_spans(state.subscriber(index), &mut count);
        }
        Call::SetFilter {
            subscriber,
            directives,
        } => {
            tracing_bridge_subscriber_set_filter(
                state.subscriber(subscriber),
                directives.as_ptr(),
                directives.len(),
            );
        }
        Call::SetLayerFilter {
            subscriber,
            layer,
            directives,
        } => {
            tracing_bridge_subscriber_set_layer_filter(
                state.subscriber(subscriber),
                layer,
                directives.as_ptr(),
                directives.len(),
            );
        }
        Call::LastError { len, null_buf } => {
            let mut buf = vec![0u8; usize::from(len)];
            let pointer = if null_buf {
                ptr::null_mut()
            } else {
                buf.as_mut_ptr()
            };
            let mut written = usize::MAX;
            let result = tracing_bridge_last_error_message(pointer, buf.len(), &mut written);
            if result == tracing_bridge_result::Ok {
                assert!(written <= buf.len());
                assert!(std::str::from_utf8(&buf[..written]).is_ok() || null_buf);
            }
        }
        Call::Attach {
            subscriber,
            detach,
            shared_len,
        } => {
            if detach {
                tracing_bridge_subscriber_js_attach(
                    state.subscriber(subscriber),
                    None,
                    ptr::null_mut(),
                    0,
                );
            } else {
                let mut shared = vec![0u8; usize::from(shared_len)];
                tracing_bridge_subscriber_js_attach(
                    state.subscriber(subscriber),
                    Some(wake),
                    shared.as_mut_ptr(),
                    u32::from(shared_len),
                );
                state.shared.push(shared);
            }
        }
        Call::Drain {
            subscriber,
            layer,
            len,
        } => {
            let mut buf = vec![0u8; usize::from(len)];
            let result = tracing_bridge_subscriber_js_drain(
                state.subscriber(subscriber),
                layer,
                buf.as_mut_ptr(),
                u32::from(len),
            );
            if result & TRACING_BRIDGE_DRAIN_NEEDS_BUFFER == 0 {
                let bytes = result & !TRACING_BRIDGE_DRAIN_MORE;
                assert!(
                    bytes <= u32::from(len),
                    "drain wrote {bytes} of {len} bytes"
                );
            }
        }
        Call::JsDropped { subscriber, layer } => {
            tracing_bridge_subscriber_js_dropped(state.subscriber(subscriber), layer);
        }
        Call::Callsite { kind, level, spec } => {
            let mut id = 0u32;
            let result = tracing_bridge_js_callsite_new(
                kind % 3,
                level % 7,
                spec.as_ptr(),
                spec.len() as u32,
                &mut id,
            );
            if result == tracing_bridge_result::Ok {
                state.callsites.push(id);
            }
        }
        Call::SpanNew {
            callsite,
            parent,
            values,
            entered,
        } => {
            let new = if entered {
                tracing_bridge_js_span_new_entered
            } else {
                tracing_bridge_js_span_new
            };
            let span = new(
                state.callsite(callsite),
                state.span(parent),
                values.as_ptr(),
                values.len() as u32,
            );
            if span != 0 {
                state.spans.push(span);
            }
        }
        Call::Event {
            callsite,
            parent,
            values,
        } => {
            tracing_bridge_js_event(
                state.callsite(callsite),
                state.span(parent),
                values.as_ptr(),
                values.len() as u32,
            );
        }
        Call::Enter(span) => {
            tracing_bridge_js_span_enter(state.span(span));
        }
        Call::Exit(span) => {
            tracing_bridge_js_span_exit(state.span(span));
        }
        Call::End(span) => {
            let span = state.span(span);
            if tracing_bridge_js_span_end(span) == tracing_bridge_result::Ok {
                state.spans.retain(|&open| open != span);
            }
        }
        Call::OpenCount => {
            tracing_bridge_js_span_open_count();
        }
        Call::RemoteParent {
            span,
            traceparent,
            tracestate,
        } => {
            tracing_bridge_js_span_set_remote_parent(
                state.span(span),
                traceparent.as_ptr(),
                traceparent.len() as u32,
                tracestate.as_ptr(),
                tracestate.len() as u32,
            );
        }
        Call::TraceContext { span, len } => {
            let mut buf = vec![0u8; usize::from(len)];
            let mut written = 0u32;
            tracing_bridge_js_span_trace_context(
                state.span(span),
                buf.as_mut_ptr(),
                u32::from(len),
                &mut written,
            );
        }
        Call::NativeEvent(text) => {
            let span = tracing::info_span!("native", text = text.as_str());
            let _entered = span.enter();
            tracing::warn!(len = text.len(), "{text}");
        }
    }
}

unsafe fn new(state: &mut State, config: &[u8]) {
    let mut subscriber = ptr::null_mut();
    let result = tracing_bridge_subscriber_new(config.as_ptr(), config.len(), &mut subscriber);
    if result == tracing_bridge_result::Ok {
        assert!(!subscriber.is_null());
        state.subscribers.push(subscriber);
    } else {
        assert!(subscriber.is_null(), "out written on failure");
    }
}

/// A config with every kind of local layer, outputs in a scratch directory.
fn template_config(template: u8, filter: &str) -> String {
    let scratch = std::env::temp_dir().join(format!("tracing-bridge-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let file = |name: &str| serde_json::to_string(&scratch.join(name)).expect("path as JSON");
    let filter = serde_json::to_string(filter).expect("filter as JSON");
    let js = r#"{"kind":"js","callbacks":["newSpan","event","record","enter","exit","close"],"capacity":4}"#;
    let second = match template % 4 {
        0 => format!(
            r#"{{"kind":"fmt","writer":{{"file":{}}},"format":"json","spanEvents":["new","close"]}}"#,
            file("fmt.log")
        ),
        1 => format!(
            r#"{{"kind":"otlpJson","writer":{{"file":{}}}}}"#,
            file("otlp.jsonl")
        ),
        2 => format!(
            r#"{{"kind":"timeline","path":{},"style":"async"}}"#,
            file("timeline.json")
        ),
        _ => format!(r#"{{"kind":"js","filter":{filter}}}"#),
    };
    format!(r#"{{"filter":{filter},"layers":[{js},{second}]}}"#)
}
