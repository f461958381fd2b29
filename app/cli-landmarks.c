/* wav2kp landmarks VIDEO [--every N] [--detect-every-frame] [--smooth] -o OUT.npy
 *
 * Extracts 68-point landmarks per video frame, or converts a landmark file
 * made elsewhere (face-alignment .npy, OpenFace CSV, our JSON) when the input
 * is one. The output format follows -o: OUT.npy (+ OUT.status.npy +
 * OUT.json), OUT.csv or OUT.json. */
#include "wkp-cli.h"
#include "wkp-io.h"
#include "wkp-landmarks.h"

#include <stdio.h>
#include <string.h>

static gboolean
is_landmark_file (const char *path)
{
  return wkp_path_has_suffix (path, ".npy") || wkp_path_has_suffix (path, ".csv") || wkp_path_has_suffix (path, ".json");
}

int
wkp_cli_landmarks (int argc, char **argv)
{
  g_autofree char *output = NULL, *fps_text = NULL;
  g_auto(GStrv) files = NULL;
  gboolean smooth = FALSE, every_frame = FALSE, normalize = FALSE, quiet = FALSE;
  int every;
  WkpLandmarkParams params;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o OUT.npy — 68-point facial landmarks per frame");
  g_autoptr(WkpLandmarkTrack) track = NULL;
  WkpRational fps = { 0, 0 };
  GError *error = NULL;
  gint64 t0;

  wkp_landmark_params_init_default (&params);
  every = params.detect_every;
  {
    GOptionEntry entries[] = {
      { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "Output: OUT.npy (with OUT.status.npy and OUT.json), OUT.csv or OUT.json", "OUT" },
      { "every", 0, 0, G_OPTION_ARG_INT, &every, "Tracking: run the face detector at least every N frames (default 10)", "N" },
      { "detect-every-frame", 0, 0, G_OPTION_ARG_NONE, &every_frame, "No tracking: detect the face in every frame", NULL },
      /* prepare's names for the same settings, accepted here too */
      { "detect-every", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &every, NULL, "N" },
      { "no-tracking", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &every_frame, NULL, NULL },
      { "smooth", 0, 0, G_OPTION_ARG_NONE, &smooth, "Temporal smoothing for display (not for training targets)", NULL },
      { "normalize", 0, 0, G_OPTION_ARG_NONE, &normalize,
        "Write head-pose normalised points: the canonical face frame of a similarity fit to the template face "
        "(eye corners at (-0.5, 0) and (0.5, 0)); OUT.json says so", NULL },
      { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Frame rate of an image sequence or imported file (default 25)", "NUM/DEN" },
      { "max-detect-width", 0, 0, G_OPTION_ARG_INT, &params.max_detect_width,
        "Frames wider than this are downscaled for detection (default 640; 0: never)", "PX" },
      { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No summary line", NULL },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "VIDEO" },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries, NULL);
  }
  g_option_context_set_description (ctx,
    "VIDEO is a video file or an image sequence pattern (dir/%06d.jpg, dir/%03d; --fps).\n"
    "Writes float32 [T, 68, 2] pixel coordinates, NaN where no face was found, and\n"
    "uint8 [T] status (0 missing, 1 detected, 2 tracked). An input ending in .npy, .csv\n"
    "or .json is read as a landmark file instead (face-alignment [T, 68, 2|3] .npy,\n"
    "OpenFace 2.0 CSV with x_0..x_67, y_0..y_67, or our own files) and converted.");
  if (!wkp_cli_parse (ctx, "landmarks", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      g_printerr ("wav2kp landmarks: give exactly one input VIDEO\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (output == NULL)
    {
      g_printerr ("wav2kp landmarks: give the output with -o OUT.npy\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (every < 1)
    {
      g_printerr ("wav2kp landmarks: --every must be at least 1\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (params.max_detect_width != 0 && params.max_detect_width < 80)
    {
      g_printerr ("wav2kp landmarks: --max-detect-width must be 0 (never downscale) or at least 80 (the detector's window)\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (!wkp_path_has_suffix (output, ".npy") && !wkp_path_has_suffix (output, ".csv") && !wkp_path_has_suffix (output, ".json"))
    {
      g_printerr ("wav2kp landmarks: %s: the output must end in .npy, .csv or .json\n", output);
      return WKP_EXIT_BAD_INPUT;
    }
  if (fps_text != NULL && !wkp_frame_rate_parse (fps_text, &fps, &error))
    return wkp_cli_fail ("landmarks", error);
  /* fail before the heavy work when the output cannot be written */
  if (!wkp_check_output_path (output, &error))
    return wkp_cli_fail ("landmarks", error);

  params.detect_every = every;
  params.tracking = !every_frame && every > 1;
  params.smooth = smooth;

  t0 = g_get_monotonic_time ();
  if (is_landmark_file (files[0]))
    {
      track = wkp_landmark_track_load (files[0], fps, &error);
      if (track != NULL && smooth)
        wkp_landmark_track_smooth (track);
    }
  else
    {
      g_autoptr(WkpCliProgress) progress = wkp_cli_progress_new ("landmarks");
      track = wkp_landmarks_extract (files[0], fps, &params, wkp_cli_progress_update, progress, NULL, &error);
    }
  if (track == NULL)
    return wkp_cli_fail ("landmarks", error);
  if (normalize)
    {
      WkpLandmarkTrack *n = wkp_landmark_track_normalize (track);
      wkp_landmark_track_free (track);
      track = n;
    }

  gboolean ok;
  if (wkp_path_has_suffix (output, ".csv"))
    ok = wkp_landmark_track_export_csv (track, output, &error);
  else if (wkp_path_has_suffix (output, ".json"))
    ok = wkp_landmark_track_export_json (track, output, &error);
  else
    ok = wkp_landmark_track_save (track, output, &error);
  if (!ok)
    return wkp_cli_fail ("landmarks", error);

  if (!quiet)
    {
      gint64 found = wkp_landmark_track_count_found (track), tracked = 0;
      double secs = (g_get_monotonic_time () - t0) / 1e6;
      for (gint64 f = 0; f < track->n_frames; f++)
        tracked += track->status[f] == WKP_FACE_TRACKED;
      printf ("%s: %" G_GINT64_FORMAT " frames, face in %" G_GINT64_FORMAT " (%.2f%%: %" G_GINT64_FORMAT
              " detected, %" G_GINT64_FORMAT " tracked), %.1f frames/s\n",
              output, track->n_frames, found, track->n_frames > 0 ? 100.0 * found / track->n_frames : 0.0,
              found - tracked, tracked, secs > 0 ? track->n_frames / secs : 0.0);
    }
  return WKP_EXIT_OK;
}
