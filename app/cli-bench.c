/* wav2kp bench NAME: benchmarks that print ratios against a baseline measured
 * in the same run. Each module's benchmark lives in bench-NAME.c. */
#include "wkp-cli.h"

#include <stdio.h>
#include <string.h>

static const WkpCliCommand benches[] = {
  { "features", wkp_bench_features, "MFCC extraction vs bare audio decode on a 10-minute input" },
  { "landmarks", wkp_bench_landmarks, "detect-every-frame vs tracking, frames/s" },
  { "lstm", wkp_bench_lstm, "LSTM inference vs PyTorch CPU, streaming latency" },
  { "prepare", wkp_bench_prepare, "dataset preparation wall time, --jobs 1 vs 2" },
  { "train", wkp_bench_train, "training time per epoch vs PyTorch CPU" },
  { "evaluate", wkp_bench_evaluate, "evaluation of 10 minutes of frames with two models" },
};

int
wkp_cli_bench (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0)
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf (out, "Usage: wav2kp bench NAME [OPTIONS...]\n\nBenchmarks:\n");
      for (guint i = 0; i < G_N_ELEMENTS (benches); i++)
        fprintf (out, "  %-10s %s\n", benches[i].name, benches[i].summary);
      return argc < 2 ? WKP_EXIT_BAD_INPUT : WKP_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (benches); i++)
    if (strcmp (argv[1], benches[i].name) == 0)
      return benches[i].func (argc - 1, argv + 1);
  fprintf (stderr, "wav2kp bench: unknown benchmark “%s”\n", argv[1]);
  return WKP_EXIT_BAD_INPUT;
}
