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
  expect(tracing_bridge_subscriber_uninstall(subscriber) == TRACING_BRIDGE_RESULT_OK,
         "uninstalls");
  tracing_bridge_subscriber_free(subscriber);
  tracing_bridge_subscriber_free(NULL);

  printf("header smoke: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
