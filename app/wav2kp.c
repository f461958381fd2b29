/* wav2kp: speech in, facial keypoints out — the headless command line. */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-io.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

static const WkpCliCommand commands[] = {
  { "demo", wkp_cli_demo, "Speak a sentence, predict its keypoints, render a clip (the main job)", TRUE },
  { "probe", wkp_cli_probe, "Describe a media file (container, streams, exact frame rate)" },
  { "audio", wkp_cli_audio, "A clip's audio aligned to its video (or synthetic speech) as 16 kHz WAV" },
  { "features", wkp_cli_features, "Audio features (MFCC / log-mel), one row per video frame" },
  { "landmarks", wkp_cli_landmarks, "68-point facial landmarks per video frame (dlib)" },
  { "frames", wkp_cli_frames, "A video as PNG frames, or face-aligned crops for training" },
  { "predict", wkp_cli_predict, "Predict facial keypoints from speech with a model" },
  { "stream", wkp_cli_stream, "Predict keypoints live from audio on standard input, a line per frame" },
  { "convert", wkp_cli_convert, "Convert PyTorch LSTM weights to a model file and back" },
  { "prepare", wkp_cli_prepare, "Build an aligned, checked training set from a corpus", TRUE },
  { "check", wkp_cli_check, "Report alignment problems of a prepared dataset" },
  { "train", wkp_cli_train, "Train a PCA + LSTM model on a prepared dataset", TRUE },
  { "ensemble", wkp_cli_ensemble, "Average the networks of models trained with different seeds" },
  { "evaluate", wkp_cli_evaluate, "Metrics of models and baselines on a dataset split" },
  { "render", wkp_cli_render, "Render a presentation clip (video, landmarks, predicted mouth, audio)" },
  { "bench", wkp_cli_bench, "Benchmarks that print ratios against a baseline", TRUE },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: wav2kp COMMAND [OPTIONS...]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun “wav2kp COMMAND --help” for the options of a command.\n");
}

int
main (int argc, char **argv)
{
  /* Numbers in files never go through the locale (engine uses g_ascii_*),
   * but messages are translated. */
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  bindtextdomain (GETTEXT_PACKAGE, WKP_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  if (argc < 2)
    {
      usage (stderr);
      return WKP_EXIT_BAD_INPUT;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return WKP_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("wav2kp %s\n", WKP_VERSION);
      return WKP_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        /* a run is one job: its outputs may never replace its inputs */
        if (!commands[i].own_files)
          wkp_io_track_inputs (TRUE);
        /* killed (Ctrl+C, kill, a closed terminal): no partial files left */
        wkp_io_remove_temps_on_signal ();
        return commands[i].func (argc - 1, argv + 1);
      }

  fprintf (stderr, "wav2kp: unknown command “%s”\n\n", argv[1]);
  usage (stderr);
  return WKP_EXIT_BAD_INPUT;
}
