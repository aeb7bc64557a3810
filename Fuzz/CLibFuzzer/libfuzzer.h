// libFuzzer's entry point for programs that keep their own main (SwiftPM
// renames every executable's main, so libFuzzer's cannot be used as is).
// Defined by the runtime that -sanitize=fuzzer links; declared here for Swift.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
