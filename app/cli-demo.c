/* wav2kp demo: the main job end to end, with nothing but the program itself.
 * Speaks a sentence with eSpeak NG, predicts facial keypoints for it with the
 * default model, and writes speech.wav, keypoints.npy (+ .json) and an MP4 of
 * the animated mouth into a folder. */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-export.h"
#include "wkp-face.h"
#include "wkp-io.h"
#include "wkp-model.h"
#include "wkp-npy.h"
#include "wkp-plot.h"
#include "wkp-speech.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#define DEMO_MAX_CHARS 2000

#define DEFAULT_TEXT "Speech in, facial keypoints out. Watch the mouth open and close with every syllable."

int
wkp_cli_demo (int argc, char **argv)
{
  g_autofree char *text = NULL, *voice = NULL, *dir = NULL, *model_path = NULL;
  GOptionEntry entries[] = {
    { "text", 't', 0, G_OPTION_ARG_STRING, &text, "What to say", "TEXT" },
    { "voice", 0, 0, G_OPTION_ARG_STRING, &voice, "eSpeak NG voice (en)", "VOICE" },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model (default: the shipped one)", "MODEL" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &dir, "Output folder (demo)", "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— speak, predict, render");
  g_autoptr(WkpModel) model = NULL;
  g_autoptr(WkpAudio) audio = NULL;
  g_autofree float *pred = NULL;
  g_autofree char *wav = NULL, *npy = NULL, *json = NULL, *mp4 = NULL, *model_name = NULL;
  g_autoptr(WkpCliProgress) progress = NULL;
  WkpRational fps = WKP_RATIONAL (25, 1);
  WkpExportParams params;
  GError *error = NULL;
  gint64 T;
  double ap_min = G_MAXDOUBLE, ap_max = -G_MAXDOUBLE;
  gint64 t0, predict_us;
  gboolean rendered;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!wkp_cli_parse (ctx, "demo", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (dir == NULL)
    dir = g_strdup ("demo");
  if (text != NULL && *g_strstrip (text) == '\0')
    {
      g_printerr ("wav2kp demo: --text is empty\n");
      return WKP_EXIT_BAD_INPUT;
    }
  /* a demo clip, not an audiobook: ~3 minutes of speech at most (longer
   * texts ran for many minutes and filled the disk) */
  if (text != NULL && g_utf8_strlen (text, -1) > DEMO_MAX_CHARS)
    {
      g_printerr ("wav2kp demo: --text has %ld characters, at most %d are spoken in a demo "
                  "(for long speech use `wav2kp predict FILE.wav`)\n", g_utf8_strlen (text, -1), DEMO_MAX_CHARS);
      return WKP_EXIT_BAD_INPUT;
    }
  if (model_path == NULL && (model_path = wkp_cli_default_model (&error)) == NULL)
    return wkp_cli_fail ("demo", error);
  model = wkp_model_load (model_path, &error);
  if (model == NULL)
    return wkp_cli_fail ("demo", error);

  audio = wkp_speech_synthesize (text ? text : DEFAULT_TEXT, voice, WKP_AUDIO_RATE, &error);
  if (audio == NULL)
    return wkp_cli_fail ("demo", error);
  /* the folder is made only once there is something to put in it */
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      return wkp_cli_fail ("demo", g_error_new (WKP_IO_ERROR, WKP_ERROR_IO, "Cannot create folder %s: %s", dir,
                                                g_file_test (dir, G_FILE_TEST_EXISTS) &&
                                                !g_file_test (dir, G_FILE_TEST_IS_DIR) ? "a file of that name exists"
                                                                                        : g_strerror (e)));
    }
  wav = g_build_filename (dir, "speech.wav", NULL);
  if (!wkp_audio_save_wav (audio, wav, &error))
    return wkp_cli_fail ("demo", error);
  /* predict from the file as written (16-bit), so that the keypoints are
   * exactly what `wav2kp predict speech.wav` gives */
  g_clear_pointer (&audio, wkp_audio_free);
  audio = wkp_audio_load (wav, WKP_AUDIO_RATE, NULL, NULL, &error);
  if (audio == NULL)
    return wkp_cli_fail ("demo", error);

  t0 = g_get_monotonic_time ();
  T = wkp_frames_for_samples (audio->n_samples, fps, audio->rate);
  pred = wkp_model_predict_audio (model, audio->samples, audio->n_samples, fps, T, 1, NULL, &error);
  predict_us = g_get_monotonic_time () - t0;
  if (pred == NULL)
    return wkp_cli_fail ("demo", error);
  for (gint64 i = 0; i < T; i++)
    {
      double a = wkp_face_inner_aperture (pred + i * 136);
      if (isfinite (a))
        {
          ap_min = MIN (ap_min, a);
          ap_max = MAX (ap_max, a);
        }
    }

  npy = g_build_filename (dir, "keypoints.npy", NULL);
  json = g_build_filename (dir, "keypoints.json", NULL);
  {
    g_autoptr(WkpOutput) out = wkp_output_new ();
    gint64 shape[] = { T, 68, 2 };
    g_autoptr(GBytes) b = wkp_npy_encode (WKP_DTYPE_F32, 3, shape, pred);
    /* the sidecar `wav2kp predict speech.wav` writes */
    WkpClipAudio clip = { .audio = audio, .fps = fps, .n_frames = T, .audio_source = wav };
    g_autoptr(JsonNode) node = wkp_cli_prediction_sidecar (wav, &clip, model, model_path, NULL,
                                                           predict_us / 1e6);
    if (!wkp_output_add_bytes (out, npy, b, &error) || !wkp_output_add_json (out, json, node, &error) ||
        !wkp_output_commit (out, &error))
      return wkp_cli_fail ("demo", error);
  }

  mp4 = g_build_filename (dir, "demo.mp4", NULL);
  wkp_export_params_init_default (&params);
  params.fps = fps;
  params.n_frames = T;
  params.audio = audio;
  params.predicted = pred;
  params.title = "wav2kp demo";
  model_name = g_path_get_basename (model_path);   /* the legend names the model, as render's does */
  params.predicted_label = model_name;
  progress = wkp_cli_progress_new ("render");
  rendered = wkp_export_clip (&params, mp4, wkp_cli_progress_update, progress, NULL, &error);
  wkp_plot_release_caches ();   /* cairo's and fontconfig's font caches (labels): no leak at exit */
  if (!rendered)
    return wkp_cli_fail ("demo", error);
  g_clear_pointer (&progress, wkp_cli_progress_free);

  printf ("wav2kp demo\n");
  printf ("  model       %s\n", model_path);
  printf ("  speech      %s  (%.2f s, eSpeak NG)\n", wav, (double) audio->n_samples / audio->rate);
  printf ("  keypoints   %s  float32 [%" G_GINT64_FORMAT ", 68, 2] at 25 fps, predicted in %.0f ms\n", npy, T,
          predict_us / 1000.0);
  printf ("  aperture    %.3f .. %.3f (inner-lip opening / inter-ocular distance)\n", ap_min, ap_max);
  printf ("  video       %s  (open it in any player, or: wav2kp-studio %s)\n", mp4, wav);
  return WKP_EXIT_OK;
}
