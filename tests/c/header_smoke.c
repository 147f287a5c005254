/* Compiles against the checked-in header and links the example library: proves the header
 * matches the exported symbols and that a C caller gets codes and messages. */
#include <stdio.h>
#include <string.h>

#include "tracing_bridge.h"

static int failures = 0;

static void expect(int condition, const char *what) {
  if (!condition) {
    fprintf(stderr, "header smoke: FAILED: %s\n", what);
    failures++;
  }
}

int main(void) {
  expect(tracing_bridge_abi_version() == TRACING_BRIDGE_ABI_VERSION, "ABI version matches");
  expect(strlen(tracing_bridge_version()) > 0, "version string");

  const char *bad = "{\"layers\":[{\"kind\":\"fmt\",\"format\":\"fancy\"}]}";
  tracing_bridge_subscriber *subscriber = NULL;
  tracing_bridge_result result =
      tracing_bridge_subscriber_new((const uint8_t *)bad, strlen(bad), &subscriber);
  expect(result == TRACING_BRIDGE_RESULT_INVALID_CONFIG, "invalid config code");
  expect(subscriber == NULL, "out untouched on failure");
  char message[512];
  size_t written = 0;
  expect(tracing_bridge_last_error_message((uint8_t *)message, sizeof message, &written) ==
             TRACING_BRIDGE_RESULT_OK,
         "message read");
  expect(written > 0 && strstr(message, "fancy") != NULL, "message names the value");

  const char *good = "{\"layers\":[{\"kind\":\"fmt\",\"writer\":\"stderr\"}]}";
  expect(tracing_bridge_subscriber_new((const uint8_t *)good, strlen(good), &subscriber) ==
             TRACING_BRIDGE_RESULT_OK,
         "valid config builds");
  expect(tracing_bridge_subscriber_install_global(subscriber) == TRACING_BRIDGE_RESULT_OK,
         "installs globally");
  expect(tracing_bridge_subscriber_flush(subscriber) == TRACING_BRIDGE_RESULT_OK, "flushes");
  const char *loud = "x=loud";
  expect(tracing_bridge_subscriber_set_filter(subscriber, (const uint8_t *)loud, strlen(loud)) ==
             TRACING_BRIDGE_RESULT_INVALID_FILTER,
         "invalid runtime filter code");
  const char *debug = "debug";
  expect(tracing_bridge_subscriber_set_layer_filter(subscriber, 0, (const uint8_t *)debug,
                                                    strlen(debug)) == TRACING_BRIDGE_RESULT_OK,
         "layer filter changes");
  expect(tracing_bridge_subscriber_uninstall(subscriber) == TRACING_BRIDGE_RESULT_OK,
         "uninstalls");
  tracing_bridge_subscriber_free(subscriber);
  tracing_bridge_subscriber_free(NULL);

  const char *render = "{\"folded\":\"/nonexistent.folded\",\"svg\":\"/tmp/x.svg\"}";
  char render_error[256];
  size_t render_written = 0;
  expect(tracing_bridge_flame_render_svg((const uint8_t *)render, strlen(render),
                                         (uint8_t *)render_error, sizeof render_error,
                                         &render_written) ==
             TRACING_BRIDGE_RESULT_FILE_NOT_READABLE,
         "render reports a missing folded file");
  expect(render_written > 0 && render_written <= sizeof render_error, "render error text");

  static const uint8_t spec[] = "request\0app\0route\0";
  uint32_t callsite = 0;
  expect(tracing_bridge_js_callsite_new(0, 3, spec, sizeof spec - 1, &callsite) ==
             TRACING_BRIDGE_RESULT_OK,
         "JS callsite made");
  static const uint8_t values[] = {1, 1, 0, 0, 0, '/'};
  uint32_t span = tracing_bridge_js_span_new(callsite, TRACING_BRIDGE_PARENT_NONE, values,
                                             sizeof values);
  expect(span != 0, "JS span made (disabled: nothing installed)");
  expect(tracing_bridge_js_span_end(span) == TRACING_BRIDGE_RESULT_OK, "JS span ended");
  expect(tracing_bridge_js_span_end(12345) == TRACING_BRIDGE_RESULT_UNKNOWN_SPAN,
         "unknown span handle code");

  printf("header smoke: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
