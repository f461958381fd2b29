/* wav2kp bench landmarks [CLIP...] [--frames N]: frames per second of
 * landmark extraction in detect-every-frame mode (the baseline) and in
 * tracking mode on the same clips, with their ratio, the accuracy of tracking
 * against detection (mean point error / inter-ocular distance) and the face
 * coverage of both. Decoding alone is timed too. Default clips: a 512x512
 * SadTalker clip and the 1080p kim_7s_raw.mp4 from ../shared/data. Times are
 * wall clock and CPU time of the process (all work runs on one thread, FFmpeg
 * decoders included; the machine is shared, so CPU time is what "on one core"
 * means). The model is loaded before timing.
 *
 * --clips-csv FILE runs both modes over every video of a clips.csv (the
 * shared data's list) with --jobs worker threads and writes a per-clip table
 * (--report FILE, TSV): frames, faces found by each mode, their agreement. */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-dlib-bridge.h"
#include "wkp-landmarks.h"
#include "wkp-media.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* --- the clips.csv survey ------------------------------------------------------ */

/* Splits CSV text (RFC 4180: quoted fields may hold commas, quotes as "" and
 * line breaks) into rows of fields. */
static GPtrArray *
parse_csv (const char *text)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
  GString *field = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *p = text;; p++)
    {
      char c = *p;
      if (quoted)
        {
          if (c == '\0')
            break;
          if (c == '"' && p[1] == '"')
            {
              g_string_append_c (field, '"');
              p++;
            }
          else if (c == '"')
            quoted = FALSE;
          else
            g_string_append_c (field, c);
          continue;
        }
      if (c == '"')
        quoted = TRUE;
      else if (c == ',')
        {
          g_ptr_array_add (row, g_strdup (field->str));
          g_string_truncate (field, 0);
        }
      else if (c == '\n' || c == '\0')
        {
          if (field->len > 0 || row->len > 0)
            {
              g_ptr_array_add (row, g_strdup (field->str));
              g_ptr_array_add (rows, row);
              row = g_ptr_array_new_with_free_func (g_free);
            }
          g_string_truncate (field, 0);
          if (c == '\0')
            break;
        }
      else if (c != '\r')
        g_string_append_c (field, c);
    }
  g_ptr_array_unref (row);
  g_string_free (field, TRUE);
  return rows;
}

typedef struct {
  char   *video;
  gint64  n_frames, found_detect, found_track, n_cmp;
  double  error, cpu_detect, cpu_track;
  char   *problem;
} SurveyItem;

static void
survey_item_free (SurveyItem *it)
{
  g_free (it->video);
  g_free (it->problem);
  g_free (it);
}

static double
thread_cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static GMutex survey_lock;
static gint survey_done;

static void
survey_worker (gpointer data, gpointer user_data)
{
  SurveyItem *it = data;
  WkpLandmarkParams det, trk;
  GError *error = NULL;
  g_autoptr(WkpLandmarkTrack) a = NULL, b = NULL;
  double c0 = thread_cpu_now (), c1, c2;

  wkp_landmark_params_init_default (&det);
  det.tracking = FALSE;
  det.detect_every = 1;
  wkp_landmark_params_init_default (&trk);
  a = wkp_landmarks_extract (it->video, WKP_RATIONAL (0, 0), &det, NULL, NULL, NULL, &error);
  c1 = thread_cpu_now ();
  if (a != NULL)
    b = wkp_landmarks_extract (it->video, WKP_RATIONAL (0, 0), &trk, NULL, NULL, NULL, &error);
  c2 = thread_cpu_now ();
  if (a == NULL || b == NULL)
    {
      it->problem = g_strdup (error->message);
      g_error_free (error);
    }
  else
    {
      it->n_frames = a->n_frames;
      it->found_detect = wkp_landmark_track_count_found (a);
      it->found_track = wkp_landmark_track_count_found (b);
      it->error = wkp_landmark_track_mean_error (b, a, &it->n_cmp);
      it->cpu_detect = c1 - c0;
      it->cpu_track = c2 - c1;
    }
  g_mutex_lock (&survey_lock);
  survey_done++;
  if (survey_done % 25 == 0)
    {
      fprintf (stderr, "  %d clips done\n", survey_done);
      fflush (stderr);
    }
  g_mutex_unlock (&survey_lock);
}

static int
survey (const char *csv_path, const char *root_dir, const char *report, int jobs)
{
  g_autofree char *text = NULL;
  g_autofree char *root = root_dir != NULL ? g_strdup (root_dir) : g_path_get_dirname (csv_path);
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) survey_item_free);
  g_autoptr(GString) out = g_string_new ("video\tframes\tfound_detect\tfound_track\tpct_detect\tpct_track\t"
                                         "mean_err_iod\tcpu_s_detect\tcpu_s_track\tproblem\n");
  GError *error = NULL;
  gint64 frames = 0, fd = 0, ft = 0, worse = 0;
  double cpu_d = 0, cpu_t = 0, err_sum = 0;
  gint64 err_n = 0;

  if (!g_file_get_contents (csv_path, &text, NULL, &error))
    return wkp_cli_fail ("bench", error);
  rows = parse_csv (text);
  for (guint r = 1; r < rows->len; r++)
    {
      GPtrArray *row = rows->pdata[r];
      const char *video = row->len > 0 ? row->pdata[0] : "";
      if (*video == '\0')
        continue;   /* audio only */
      SurveyItem *it = g_new0 (SurveyItem, 1);
      it->video = g_build_filename (root, video, NULL);
      g_ptr_array_add (items, it);
    }
  fprintf (stderr, "%u clips with video, %d worker threads\n", items->len, jobs);
  {
    /* warm the model once */
    g_autoptr(WkpDlib) warm = wkp_dlib_new (NULL, &error);
    if (warm == NULL)
      return wkp_cli_fail ("bench", error);
  }
  double w0 = g_get_monotonic_time () / 1e6;
  GThreadPool *pool = g_thread_pool_new (survey_worker, NULL, jobs, TRUE, NULL);
  for (guint i = 0; i < items->len; i++)
    g_thread_pool_push (pool, items->pdata[i], NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  double wall = g_get_monotonic_time () / 1e6 - w0;

  for (guint i = 0; i < items->len; i++)
    {
      SurveyItem *it = items->pdata[i];
      char e[32];
      g_ascii_formatd (e, sizeof e, "%.5f", it->error);
      g_string_append_printf (out, "%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
                              "\t%.2f\t%.2f\t%s\t%.2f\t%.2f\t%s\n",
                              it->video + strlen (root) + 1, it->n_frames, it->found_detect, it->found_track,
                              it->n_frames ? 100.0 * it->found_detect / it->n_frames : 0.0,
                              it->n_frames ? 100.0 * it->found_track / it->n_frames : 0.0, e, it->cpu_detect,
                              it->cpu_track, it->problem ? it->problem : "");
      frames += it->n_frames;
      fd += it->found_detect;
      ft += it->found_track;
      worse += it->found_track < it->found_detect;
      cpu_d += it->cpu_detect;
      cpu_t += it->cpu_track;
      if (it->n_cmp > 0)
        {
          err_sum += it->error * it->n_cmp;
          err_n += it->n_cmp;
        }
    }
  if (report != NULL && !g_file_set_contents (report, out->str, out->len, &error))
    return wkp_cli_fail ("bench", error);
  if (report == NULL)
    fputs (out->str, stdout);
  printf ("clips %u, frames %" G_GINT64_FORMAT ", wall %.0f s\n", items->len, frames, wall);
  printf ("faces found: detect every frame %" G_GINT64_FORMAT " (%.3f%%), tracking %" G_GINT64_FORMAT " (%.3f%%)\n",
          fd, 100.0 * fd / MAX (frames, 1), ft, 100.0 * ft / MAX (frames, 1));
  printf ("clips where tracking found fewer faces than detection: %" G_GINT64_FORMAT "\n", worse);
  printf ("tracking vs detection: mean point error %.3f%% of inter-ocular distance over %" G_GINT64_FORMAT " frames\n",
          100 * err_sum / MAX (err_n, 1), err_n);
  printf ("CPU: detect every frame %.0f s (%.1f f/s), tracking %.0f s (%.1f f/s)\n", cpu_d, frames / cpu_d, cpu_t,
          frames / cpu_t);
  return WKP_EXIT_OK;
}

static double
thread_cpu_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
  double wall, cpu;
} Timing;

static gboolean
time_decode (const char *path, gint64 max_frames, gint64 *n_frames, Timing *t, GError **error)
{
  double w0 = g_get_monotonic_time () / 1e6, c0 = thread_cpu_s ();
  g_autoptr(WkpVideoReader) r = wkp_video_reader_open (path, WKP_RATIONAL (0, 0), WKP_PIXEL_GRAY8, error);
  WkpFrame fr;
  gint64 n = 0;
  if (r == NULL)
    return FALSE;
  while ((max_frames <= 0 || n < max_frames) && wkp_video_reader_next (r, &fr, error))
    n++;
  if (error != NULL && *error != NULL)
    return FALSE;
  t->wall = g_get_monotonic_time () / 1e6 - w0;
  t->cpu = thread_cpu_s () - c0;
  *n_frames = n;
  return TRUE;
}

static WkpLandmarkTrack *
time_extract (const char *path, const WkpLandmarkParams *p, Timing *t, GError **error)
{
  double w0 = g_get_monotonic_time () / 1e6, c0 = thread_cpu_s ();
  WkpLandmarkTrack *track = wkp_landmarks_extract (path, WKP_RATIONAL (0, 0), p, NULL, NULL, NULL, error);
  t->wall = g_get_monotonic_time () / 1e6 - w0;
  t->cpu = thread_cpu_s () - c0;
  return track;
}

int
wkp_bench_landmarks (int argc, char **argv)
{
  int frames = 0, every = 10, jobs = 1;
  g_auto(GStrv) files = NULL;
  g_autofree char *clips_csv = NULL, *report = NULL, *root = NULL;
  GOptionEntry entries[] = {
    { "clips-csv", 0, 0, G_OPTION_ARG_FILENAME, &clips_csv, "Survey every video of a clips.csv (both modes)", "FILE" },
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &root, "Folder the clips.csv paths are relative to (default: its own)", "DIR" },
    { "report", 0, 0, G_OPTION_ARG_FILENAME, &report, "Per-clip survey table (TSV)", "FILE" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Survey worker threads (default 1)", "N" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Frames per clip (default: all)", "N" },
    { "every", 0, 0, G_OPTION_ARG_INT, &every, "Tracking: detector at least every N frames (default 10)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[CLIP...] — detect-every-frame vs tracking");
  g_autoptr(GPtrArray) clips = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!wkp_cli_parse (ctx, "bench landmarks", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (clips_csv != NULL)
    return survey (clips_csv, root, report, MAX (1, jobs));
  if (files != NULL && files[0] != NULL)
    for (int i = 0; files[i] != NULL; i++)
      g_ptr_array_add (clips, g_strdup (files[i]));
  else
    {
      const char *env = g_getenv ("WKP_SHARED_DATA");
      g_autofree char *data = env != NULL && *env ? g_strdup (env)
                                                  : g_build_filename (WKP_SOURCE_DIR, "..", "shared", "data", NULL);
      g_ptr_array_add (clips, g_build_filename (data, "av", "OpenTalker__SadTalker", "examples", "ref_video",
                                                "WDA_KatieHill_000.mp4", NULL));
      g_ptr_array_add (clips, g_build_filename (data, "av", "ajay-sainy__Wav2Lip-GFPGAN", "inputs",
                                                "kim_7s_raw.mp4", NULL));
    }

  /* load the 100 MB shape model before any timing */
  {
    double w0 = g_get_monotonic_time () / 1e6;
    g_autoptr(WkpDlib) warm = wkp_dlib_new (NULL, &error);
    if (warm == NULL)
      return wkp_cli_fail ("bench", error);
    printf ("shape model loaded in %.2f s (once per process, not counted below)\n\n",
            g_get_monotonic_time () / 1e6 - w0);
  }

  for (guint c = 0; c < clips->len; c++)
    {
      const char *path = clips->pdata[c];
      WkpLandmarkParams det, trk;
      Timing td, tt, tdec;
      gint64 n = 0, n_cmp = 0;
      g_autoptr(WkpLandmarkTrack) a = NULL, b = NULL;
      g_autoptr(WkpMediaInfo) info = wkp_media_probe (path, WKP_RATIONAL (0, 0), WKP_PROBE_DEFAULT, &error);

      if (info == NULL)
        return wkp_cli_fail ("bench", error);
      wkp_landmark_params_init_default (&det);
      det.tracking = FALSE;
      det.detect_every = 1;
      det.max_frames = frames;
      trk = det;
      trk.tracking = TRUE;
      trk.detect_every = every;

      if (!time_decode (path, frames, &n, &tdec, &error))
        return wkp_cli_fail ("bench", error);
      a = time_extract (path, &det, &td, &error);
      if (a == NULL)
        return wkp_cli_fail ("bench", error);
      b = time_extract (path, &trk, &tt, &error);
      if (b == NULL)
        return wkp_cli_fail ("bench", error);
      double err = wkp_landmark_track_mean_error (b, a, &n_cmp);

      printf ("%s\n  %dx%d, %" G_GINT64_FORMAT " frames\n", path, info->width, info->height, n);
      printf ("  %-22s %8s %8s   %s\n", "", "wall f/s", "CPU f/s", "faces found");
      printf ("  %-22s %8.1f %8.1f\n", "decode only", n / tdec.wall, n / tdec.cpu);
      printf ("  %-22s %8.1f %8.1f   %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT "   <- baseline\n",
              "detect every frame", n / td.wall, n / td.cpu, wkp_landmark_track_count_found (a), a->n_frames);
      printf ("  %-22s %8.1f %8.1f   %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT "\n", "tracking", n / tt.wall,
              n / tt.cpu, wkp_landmark_track_count_found (b), b->n_frames);
      printf ("  speed-up tracking/detect: %.2fx wall, %.2fx CPU   (target >= 3x)\n", td.wall / tt.wall,
              td.cpu / tt.cpu);
      printf ("  tracking vs detection: mean point error %.2f%% of inter-ocular distance over %" G_GINT64_FORMAT
              " frames (target < 3%%)\n\n", 100 * err, n_cmp);
    }
  return WKP_EXIT_OK;
}
