/* wkp-dataset-prepare.c: `wav2kp prepare` — sources to an aligned, checked,
 * cached dataset folder. See wkp-dataset.h for the layout.
 *
 * Per clip: content hashes of the inputs -> cache key -> clips/<ID>/ exists?
 * reuse : decode audio (aligned to video frame 0), extract (or reuse)
 * landmarks, normalise, estimate the A/V offset, compute features at the
 * model fps, write every array into a temporary folder and rename it into
 * place. The manifest is written last. A lock file keeps two runs apart.
 */
#include "wkp-dataset-private.h"
#include "wkp-io.h"
#include "wkp-media.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define KEY_VERSION "wkp-dataset-clip-v1"
/* bump when the clip computation changes (landmarks are keyed separately) */
#define CLIP_ALGO "clip-algo-3"   /* 3: channels in antiphase inverted before the down-mix */

void
wkp_prepare_params_init_default (WkpPrepareParams *p)
{
  memset (p, 0, sizeof *p);
  wkp_feature_config_init_default (&p->features);
  wkp_landmark_params_init_default (&p->landmarks);
  p->landmarks.n_threads = 1;
  p->model_fps = WKP_RATIONAL (25, 1);
  p->sequence_fps = WKP_RATIONAL (0, 0);   /* (as the frames.json of `wav2kp frames` says, else 25/1) */
  p->n_jobs = 1;
  p->seed = 1;
  p->val_fraction = 0.15;
  p->test_fraction = 0.15;
  p->dominant_share = 0.25;
  p->train_speakers = NULL;
  p->fix_offset = FALSE;
  p->max_lag = 10;
  p->offset_flag = 2;
  p->min_offset_confidence = 0.2;
  p->min_offset_gain = 0.08;
  p->min_face_rate = 0.9;
  p->max_length_mismatch = 0.2;
  p->retry_failed = FALSE;
  p->replace = FALSE;
}

/* ------------------------------------------------------------------------ */
/* Hashing inputs                                                            */

static gboolean
hash_file_into (GChecksum *sum, const char *path, GError **error)
{
  g_autoptr(GMappedFile) map = NULL;
  g_autoptr(GError) local = NULL;
  if (!wkp_check_input_file (path, WKP_DATASET_ERROR, error))
    return FALSE;
  map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      wkp_set_file_error (error, WKP_DATASET_ERROR, path, local);
      return FALSE;
    }
  g_checksum_update (sum, (const guchar *) g_mapped_file_get_contents (map), g_mapped_file_get_length (map));
  return TRUE;
}

/* Expands the first %d / %0Nd of @pattern with @index (no printf with user text). */
static char *
expand_pattern (const char *pattern, gint64 index)
{
  const char *p = strchr (pattern, '%');
  GString *s;
  int width = 0;
  gboolean zero = FALSE;
  const char *q;

  while (p != NULL && p[1] == '%')
    p = strchr (p + 2, '%');
  if (p == NULL)
    return NULL;
  q = p + 1;
  if (*q == '0')
    zero = TRUE, q++;
  while (g_ascii_isdigit (*q))
    width = width * 10 + (*q++ - '0');
  if (*q != 'd' || width > 32)
    return NULL;
  s = g_string_new_len (pattern, p - pattern);
  {
    char num[64];
    int len = g_snprintf (num, sizeof num, "%" G_GINT64_FORMAT, index);
    for (int i = len; i < width; i++)
      g_string_append_c (s, zero ? '0' : ' ');
    g_string_append (s, num);
  }
  g_string_append (s, q + 1);
  return g_string_free (s, FALSE);
}

/* Hash of a source: the file's bytes, or for an image sequence every frame
 * file's index and bytes (start number 0..4, as FFmpeg's image2 finds it). */
static char *
hash_source (const char *path, GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  if (wkp_media_is_pattern (path))
    {
      gint64 start = -1, count = 0;
      for (gint64 i = 0; i <= 4 && start < 0; i++)
        {
          g_autofree char *f = expand_pattern (path, i);
          if (f != NULL && g_file_test (f, G_FILE_TEST_IS_REGULAR))
            start = i;
        }
      if (start < 0)
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_NOT_FOUND,
                       "%s: no image matches this sequence pattern", path);
          return NULL;
        }
      for (gint64 i = start;; i++)
        {
          g_autofree char *f = expand_pattern (path, i);
          char idx[32];
          if (f == NULL || !g_file_test (f, G_FILE_TEST_IS_REGULAR))
            break;
          g_snprintf (idx, sizeof idx, "%" G_GINT64_FORMAT "\n", i);
          g_checksum_update (sum, (const guchar *) idx, -1);
          if (!hash_file_into (sum, f, error))
            return NULL;
          count++;
        }
      (void) count;
    }
  else if (!hash_file_into (sum, path, error))
    return NULL;
  return g_strdup (g_checksum_get_string (sum));
}

/* The start of a clip's folder name: the last 48 characters of @name, each
 * other than a letter, digit, '-' or '_' made '_', without leading '_' or
 * '-' (a folder called "-x…" reads as an option to ls, rm or tar). */
char *
wkp_clip_id_base (const char *name)
{
  GString *s = g_string_new (NULL);
  const char *start = name;
  gsize len = strlen (name);
  if (len > 48)
    start = name + len - 48;
  for (const char *p = start; *p; p++)
    g_string_append_c (s, g_ascii_isalnum (*p) || *p == '-' || *p == '_' ? *p : '_');
  while (s->len > 0 && (s->str[0] == '_' || s->str[0] == '-'))
    g_string_erase (s, 0, 1);
  if (s->len == 0)
    g_string_append (s, "clip");
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------------ */
/* Small file helpers                                                        */

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *n;
  if (dir != NULL)
    {
      while ((n = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, n, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

/* Removes a dataset folder this run created: clips/ with its failure
 * records, the lock file, the folder. */
static void
remove_tree_all (const char *out_dir)
{
  g_autofree char *clips = g_build_filename (out_dir, "clips", NULL);
  g_autofree char *lock = g_build_filename (out_dir, ".lock", NULL);
  g_autoptr(GDir) dir = g_dir_open (clips, 0, NULL);
  const char *n;
  while (dir != NULL && (n = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (clips, n, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (clips);
  g_unlink (lock);
  g_rmdir (out_dir);
}

static gboolean
write_npy (const char *dir, const char *name, WkpDtype dtype, int ndim, const gint64 *shape,
           gconstpointer data, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GBytes) bytes = wkp_npy_encode (dtype, ndim, shape, data);
  g_autoptr(GError) local = NULL;
  gsize len;
  const char *raw = g_bytes_get_data (bytes, &len);
  if (!g_file_set_contents_full (path, raw, (gssize) len, G_FILE_SET_CONTENTS_NONE, 0644, &local))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "%s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_json (const char *path, JsonNode *node, GError **error)
{
  g_autofree char *text = wkp_json_to_string (node, TRUE);
  g_autoptr(GError) local = NULL;
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, &local))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "%s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The job                                                                   */

typedef struct {
  const WkpPrepareParams *params;
  GPtrArray      *entries;          /* WkpSourceEntry */
  WkpClipRecord  *records;
  gboolean       *computed;
  gboolean       *lm_reused;
  gboolean       *from_record;    /* failed from an earlier run's failure record, not tried again */
  char           *out_dir;
  char           *clips_dir;
  char           *feature_json;
  char           *landmark_json;
  GHashTable     *old_landmarks;    /* landmark key -> clip folder (existing) */
  GCancellable   *cancellable;
  WkpProgressFunc progress;
  gpointer        progress_data;
  GMutex          lock;
  gint            next;
  gint64          done;
  GError         *fatal;
} Job;

static char *
sha256_text (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

/* An estimate at the edge of the search range is a bound, not a peak. */
static gboolean
offset_is_unsure (const WkpDatasetClip *c, const WkpPrepareParams *P)
{
  return !isfinite (c->offset_confidence) || c->offset_confidence < P->min_offset_confidence
         || ABS (c->offset_frames) >= P->max_lag;
}

static gboolean
offset_is_flagged (const WkpDatasetClip *c, const WkpPrepareParams *P)
{
  return !offset_is_unsure (c, P)
         && ABS (c->offset_frames) >= P->offset_flag && isfinite (c->offset_gain) && c->offset_gain >= P->min_offset_gain;
}

static gboolean
load_old_landmarks (Job *job, const char *lm_key, gint64 *n_frames, float **points, guint8 **status)
{
  const char *dir = g_hash_table_lookup (job->old_landmarks, lm_key);
  g_autofree char *lp = NULL, *sp = NULL;
  g_autoptr(WkpNpy) l = NULL;
  g_autoptr(WkpNpy) s = NULL;
  gint64 shape[3] = { -1, WKP_N_LANDMARKS, 2 };

  if (dir == NULL)
    return FALSE;
  lp = g_build_filename (dir, "landmarks.npy", NULL);
  sp = g_build_filename (dir, "status.npy", NULL);
  l = wkp_npy_load (lp, NULL);
  s = wkp_npy_load (sp, NULL);
  if (l == NULL || s == NULL || !wkp_npy_check (l, lp, WKP_DTYPE_F32, 3, shape, NULL)
      || !wkp_npy_check (s, sp, WKP_DTYPE_U8, 1, l->shape, NULL))
    return FALSE;
  *n_frames = l->shape[0];
  *points = g_memdup2 (l->data, MAX (l->n_elements, 1) * sizeof (float));
  *status = g_memdup2 (s->data, MAX (s->n_elements, 1));
  return TRUE;
}

/* Computes one clip into @tmp; fills @rec. */
static gboolean
compute_clip (Job *job, const WkpSourceEntry *e, WkpClipRecord *rec, const char *tmp, gboolean *lm_reused,
              GError **error)
{
  const WkpPrepareParams *P = job->params;
  WkpDatasetClip *c = &rec->clip;
  WkpSourceSpec spec = { e->video, e->audio, P->sequence_fps, "name its audio in the list's audio column" };
  g_autoptr(WkpClipAudio) ca = NULL;
  g_autoptr(WkpLandmarkTrack) track = NULL;
  g_autofree float *points = NULL, *normalized = NULL, *transform = NULL, *env = NULL;
  g_autofree float *feats = NULL;
  g_autofree guint8 *status = NULL;
  g_autoptr(JsonNode) json = NULL;
  g_autofree char *clip_json = NULL;
  const float *audio;
  gint64 n_audio, T, n_face = 0, tf;
  WkpAvOffset off;
  int dim = wkp_feature_config_dim (&P->features);
  WkpLandmarkParams lp = P->landmarks;

  ca = wkp_clip_audio_load (&spec, WKP_AUDIO_RATE, job->cancellable, error);
  if (ca == NULL)
    return FALSE;
  if (ca->video_info == NULL)
    {
      /* (a sound named like a video is skipped before, from its header) */
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: has no video stream", e->video);
      return FALSE;
    }
  c->fps = ca->fps;
  c->timing_error_ms = NAN;
  if (ca->video_info != NULL)
    {
      c->width = ca->video_info->width;
      c->height = ca->video_info->height;
      if (ca->video_info->n_frames_counted && !ca->video_info->is_image_sequence)
        c->timing_error_ms = ca->video_info->timing_error_us / 1000.0;
    }

  /* landmarks: reuse when only the feature side changed */
  *lm_reused = load_old_landmarks (job, rec->landmark_key, &T, &points, &status);
  if (!*lm_reused)
    {
      lp.n_threads = MAX (lp.n_threads, 1);
      track = wkp_landmarks_extract (e->video, P->sequence_fps, &lp, NULL, NULL, job->cancellable, error);
      if (track == NULL)
        return FALSE;
      T = track->n_frames;
      points = g_steal_pointer (&track->points);
      status = g_steal_pointer (&track->status);
      if (c->width == 0)
        c->width = track->width, c->height = track->height;
    }
  if (T <= 0)
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: no video frames", e->video);
      return FALSE;
    }
  c->n_frames = T;
  c->video_seconds = (double) T * c->fps.den / c->fps.num;
  c->audio_seconds = (double) ca->audio->n_samples / WKP_AUDIO_RATE;
  c->audio_rate = ca->audio->source_rate;
  c->audio_inverted = 0;
  for (int k = 1; k < 64; k++)
    c->audio_inverted += (ca->audio->inverted_channels >> k) & 1;

  normalized = g_new (float, T * WKP_N_LANDMARKS * 2);
  transform = g_new (float, T * 4);
  wkp_dataset_normalize_track (points, T, normalized, transform, &n_face);
  c->n_face_frames = n_face;
  c->face_rate = (double) n_face / (double) T;

  /* offset: log-energy envelope vs inner-lip aperture at the video fps */
  audio = ca->audio->samples;
  n_audio = ca->audio->n_samples;
  env = wkp_audio_envelope (audio, n_audio, WKP_AUDIO_RATE, c->fps, T);
  if (wkp_clip_offset_estimate (audio, n_audio, c->fps, points, T, P->max_lag, &off, NULL))
    {
      c->offset_frames = off.offset_frames;
      c->offset_confidence = off.confidence;
      c->offset_peak_r = off.peak_r;
      c->offset_gain = off.gain;
    }
  else
    {
      c->offset_frames = 0;
      c->offset_confidence = NAN;
      c->offset_peak_r = NAN;
      c->offset_gain = NAN;
    }

  /* the source's own audio_late, else (--fix-offset) a flagged estimate */
  if (e->audio_late != 0 || (P->fix_offset && offset_is_flagged (c, P)))
    {
      int late = e->audio_late != 0 ? e->audio_late : c->offset_frames;
      /* (the rule of `--audio-late`: a move shorter than the clip) */
      if (!wkp_clip_audio_fix_late (ca, late, e->name, error))
        return FALSE;
      audio = ca->audio->samples;
      n_audio = ca->audio->n_samples;
      c->offset_applied = late;
      g_free (env);
      env = wkp_audio_envelope (audio, n_audio, WKP_AUDIO_RATE, c->fps, T);
    }
  c->n_samples = n_audio;

  /* features at the model fps over the video's duration */
  tf = wkp_track_resample_length (T, c->fps, P->model_fps);
  feats = wkp_features_compute (&P->features, audio, n_audio, P->model_fps, tf, error);
  if (feats == NULL)
    return FALSE;
  c->n_feature_frames = tf;
  rec->feature_dim = dim;
  c->feature_mean = g_new0 (double, dim);
  c->feature_std = g_new0 (double, dim);
  for (gint64 i = 0; i < tf; i++)
    for (int d = 0; d < dim; d++)
      {
        double v = feats[i * dim + d];
        c->feature_mean[d] += v;
        c->feature_std[d] += v * v;
      }
  for (int d = 0; d < dim; d++)
    {
      double m = tf > 0 ? c->feature_mean[d] / tf : 0;
      double var = tf > 0 ? c->feature_std[d] / tf - m * m : 0;
      c->feature_mean[d] = m;
      c->feature_std[d] = sqrt (MAX (var, 0));
    }
  if (n_face > 0)
    {
      double acc[WKP_N_LANDMARKS * 2] = { 0 };
      rec->face_mean = g_new (float, WKP_N_LANDMARKS * 2);
      for (gint64 t = 0; t < T; t++)
        if (isfinite (transform[t * 4]))
          for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
            acc[k] += normalized[t * WKP_N_LANDMARKS * 2 + k];
      for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
        rec->face_mean[k] = (float) (acc[k] / n_face);
    }

  c->status = WKP_CLIP_OK;
  {
    gint64 sf[2] = { tf, dim }, sl[3] = { T, WKP_N_LANDMARKS, 2 }, st[2] = { T, 4 }, s1[1] = { T };
    gint64 sa[1] = { n_audio };
    clip_json = g_build_filename (tmp, "clip.json", NULL);
    json = wkp_clip_record_to_json (rec, TRUE);
    if (!write_npy (tmp, "features.npy", WKP_DTYPE_F32, 2, sf, feats, error)
        || !write_npy (tmp, "landmarks.npy", WKP_DTYPE_F32, 3, sl, points, error)
        || !write_npy (tmp, "normalized.npy", WKP_DTYPE_F32, 3, sl, normalized, error)
        || !write_npy (tmp, "status.npy", WKP_DTYPE_U8, 1, s1, status, error)
        || !write_npy (tmp, "transform.npy", WKP_DTYPE_F32, 2, st, transform, error)
        || !write_npy (tmp, "audio.npy", WKP_DTYPE_F32, 1, sa, audio, error)
        || !write_npy (tmp, "envelope.npy", WKP_DTYPE_F32, 1, s1, env, error)
        || !write_json (clip_json, json, error))
      return FALSE;
  }
  return TRUE;
}

/* Every array of a cached clip folder parses with the shape its record says
 * and holds values the reader accepts (a damaged folder is recomputed). */
static gboolean
clip_dir_is_complete (const char *dir, const WkpClipRecord *rec)
{
  const WkpDatasetClip *c = &rec->clip;
  for (int a = WKP_CLIP_ARRAY_FEATURES; a <= WKP_CLIP_ARRAY_ENVELOPE; a++)
    {
      g_autofree char *path = g_build_filename (dir, wkp_clip_array_filename ((WkpClipArray) a), NULL);
      g_autoptr(WkpNpy) npy = wkp_npy_load (path, NULL);
      gint64 first = a == WKP_CLIP_ARRAY_FEATURES ? c->n_feature_frames : a == WKP_CLIP_ARRAY_AUDIO ? c->n_samples
                                                                                                     : c->n_frames;
      gint64 elements = first * (a == WKP_CLIP_ARRAY_FEATURES ? rec->feature_dim
                                 : a == WKP_CLIP_ARRAY_LANDMARKS || a == WKP_CLIP_ARRAY_NORMALIZED ? WKP_N_LANDMARKS * 2
                                 : a == WKP_CLIP_ARRAY_TRANSFORM ? 4 : 1);
      if (npy == NULL || npy->ndim < 1 || npy->shape[0] != first || npy->n_elements != elements
          || npy->dtype != (a == WKP_CLIP_ARRAY_STATUS ? WKP_DTYPE_U8 : WKP_DTYPE_F32)
          || !wkp_clip_array_check_values (npy, (WkpClipArray) a, path, NULL))
        return FALSE;
    }
  return TRUE;
}

static gboolean
error_is_clip_fault (const GError *error)
{
  /* decoding/analysis errors are properties of the clip and worth caching;
   * I/O on our own output and cancellation are not */
  if (error->domain == WKP_IO_ERROR)
    return FALSE;
  if (error->code == WKP_ERROR_CANCELLED || error->code == WKP_ERROR_IO)
    return FALSE;
  return TRUE;
}

/* How @video's frames are timed when that changed on 7 Dec 2026, for the
 * landmarks' key: "timing=grid" when its pictures are read by their
 * timestamps on a constant grid (WkpMediaInfo.resampled), "rate=N/D" when
 * its rate is the stream's base rate instead of FFmpeg's estimated average
 * (fps_from_base), else "" (other clips keep their keys and their cache).
 * Landmarks and features cached before, read one picture per frame or at
 * the estimated rate, are then not reused. (A video that cannot be read is
 * said by the reading itself.) */
static char *
video_timing_key (const char *video)
{
  g_autoptr(WkpMediaInfo) info = NULL;
  g_autofree char *rate = NULL;
  if (wkp_media_is_pattern (video)
      || (info = wkp_media_probe (video, WKP_RATIONAL (0, 0), WKP_PROBE_COUNT_FRAMES, NULL)) == NULL)
    return g_strdup ("");
  rate = wkp_rational_to_string (info->fps);
  return g_strdup_printf ("%s%s%s%s", info->resampled ? "timing=grid\n" : "", info->fps_from_base ? "rate=" : "",
                          info->fps_from_base ? rate : "", info->fps_from_base ? "\n" : "");
}

static void
process_entry (Job *job, guint i)
{
  const WkpPrepareParams *P = job->params;
  const WkpSourceEntry *e = job->entries->pdata[i];
  WkpClipRecord *rec = &job->records[i];
  WkpDatasetClip *c = &rec->clip;
  g_autoptr(GError) error = NULL;
  g_autofree char *vhash = NULL, *ahash = NULL, *lm_text = NULL, *key_text = NULL, *safe = NULL, *timing = NULL;
  g_autofree char *dir = NULL, *failed_path = NULL, *record_path = NULL, *tmp = NULL;
  g_autofree char *seq = NULL;
  g_autofree char *mfps = wkp_rational_to_string (P->model_fps);
  gboolean moved;
  int rename_errno;

  c->name = g_strdup (e->name);
  c->speaker = g_strdup (e->speaker);
  c->video_path = g_strdup (e->video);
  c->audio_path = g_strdup (e->audio);
  c->split = WKP_SPLIT_NONE;
  c->offset_confidence = c->offset_peak_r = c->offset_gain = NAN;

  if (e->video == NULL)
    {
      c->status = WKP_CLIP_SKIPPED;
      c->error = g_strdup ("audio only: not a training clip");
      return;
    }
  vhash = hash_source (e->video, &error);
  if (vhash != NULL && e->audio != NULL)
    ahash = hash_source (e->audio, &error);
  if (vhash == NULL || (e->audio != NULL && ahash == NULL))
    {
      c->status = WKP_CLIP_FAILED;
      c->error = g_strdup (error->message);
      return;
    }
  timing = video_timing_key (e->video);
  if (wkp_media_is_pattern (e->video))   /* (the rate it is read at: keys made with 25/1 stay valid) */
    seq = wkp_rational_to_string (wkp_media_sequence_rate (e->video, P->sequence_fps));
  lm_text = g_strdup_printf ("%s\nlandmarks\n%s\n%s\n%s\n%s", KEY_VERSION, vhash,
                             wkp_media_is_pattern (e->video) ? seq : "", job->landmark_json, timing);
  rec->landmark_key = sha256_text (lm_text);
  key_text = g_strdup_printf ("%s\n%s\n%s\n%s\n%s\n%s\nmax_lag=%d\nfix=%d,%d,%.6g,%.6g\n", KEY_VERSION,
                              CLIP_ALGO, rec->landmark_key, ahash ? ahash : "-", job->feature_json, mfps,
                              P->max_lag, P->fix_offset, P->fix_offset ? P->offset_flag : 0,
                              P->fix_offset ? P->min_offset_confidence : 0.0,
                              P->fix_offset ? P->min_offset_gain : 0.0);
  if (e->audio_late != 0)   /* (only then: the other clips keep their keys, and their cache) */
    {
      char *with = g_strdup_printf ("%saudio_late=%d\n", key_text, e->audio_late);
      g_free (key_text);
      key_text = with;
    }
  rec->key = sha256_text (key_text);
  safe = wkp_clip_id_base (e->name);
  c->id = g_strdup_printf ("%s-%.12s", safe, rec->key);
  dir = g_build_filename (job->clips_dir, c->id, NULL);
  record_path = g_build_filename (dir, "clip.json", NULL);
  failed_path = g_strdup_printf ("%s.failed.json", dir);

  /* cached? */
  if (g_file_test (record_path, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr(JsonNode) node = wkp_json_load_file (record_path, NULL);
      WkpClipRecord old;
      if (node != NULL && wkp_clip_record_from_json (node, &old, record_path, NULL))
        {
          if (old.clip.status == WKP_CLIP_OK && g_strcmp0 (old.key, rec->key) == 0 && clip_dir_is_complete (dir, &old))
            {
              /* keep the current name/speaker/paths (they are not part of the arrays) */
              g_free (old.clip.name), old.clip.name = g_strdup (e->name);
              g_free (old.clip.speaker), old.clip.speaker = g_strdup (e->speaker);
              g_free (old.clip.video_path), old.clip.video_path = g_strdup (e->video);
              g_free (old.clip.audio_path), old.clip.audio_path = g_strdup (e->audio);
              if (old.clip.audio_rate == 0)
                {
                  /* (a record from before 8 Dec 2026: its sound's rate read
                   * from the header, so that low-audio-rate is flagged) */
                  g_autoptr(WkpMediaInfo) ai = wkp_media_probe (e->audio != NULL ? e->audio : e->video,
                                                                WKP_RATIONAL (0, 0), WKP_PROBE_DEFAULT, NULL);
                  if (ai != NULL && ai->has_audio)
                    {
                      /* kept in its record, so that later runs need not read it again */
                      g_autoptr(JsonNode) updated = NULL;
                      g_autoptr(GBytes) bytes = NULL;
                      old.clip.audio_rate = ai->sample_rate;
                      updated = wkp_clip_record_to_json (&old, TRUE);
                      bytes = wkp_json_to_bytes (updated);
                      wkp_write_file_atomic (record_path, bytes, NULL);   /* (best effort: read again next time) */
                    }
                }
              wkp_clip_record_clear (rec);
              *rec = old;
              return;
            }
          wkp_clip_record_clear (&old);
        }
      remove_tree (dir);   /* unreadable leftover: recompute */
    }
  /* a folder without its record (clip.json deleted), or a file where the
   * folder goes: a leftover too (the computed clip could never be moved into
   * place, "Directory not empty", on every run) */
  if (g_file_test (dir, G_FILE_TEST_IS_DIR) && !g_file_test (dir, G_FILE_TEST_IS_SYMLINK))
    remove_tree (dir);
  else if (g_file_test (dir, G_FILE_TEST_EXISTS) || g_file_test (dir, G_FILE_TEST_IS_SYMLINK))
    g_unlink (dir);
  {
    /* a sound named like a video (an audio-only .webm found in a folder, a
     * WAV in the list's video column): skipped as audio-only rows are, from
     * its header, before an older run's failure record (which failed it,
     * "has no video stream") and without decoding it */
    g_autoptr(WkpMediaInfo) vi = wkp_media_is_pattern (e->video) ? NULL
                                 : wkp_media_probe (e->video, WKP_RATIONAL (0, 0), WKP_PROBE_DEFAULT, NULL);
    if (vi != NULL && !vi->has_video && vi->has_audio && e->audio == NULL)
      {
        c->status = WKP_CLIP_SKIPPED;
        c->error = g_strdup_printf ("audio only (%s has no video stream): not a training clip", e->video);
        return;
      }
  }
  if (!P->retry_failed && g_file_test (failed_path, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr(JsonNode) node = wkp_json_load_file (failed_path, NULL);
      const char *msg = NULL;
      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        msg = wkp_json_get_string (json_node_get_object (node), "error");
      if (msg != NULL)
        {
          c->status = WKP_CLIP_FAILED;
          c->error = g_strdup (msg);
          job->from_record[i] = TRUE;
          return;
        }
    }

  job->computed[i] = TRUE;
  {
    /* Ctrl+C removes it (it stayed, arrays and all, until the next run);
     * registered before it exists, so that no signal can fall in between.
     * 0777 as mkdir: the umask decides (g_mkdtemp gave 0700) */
    g_autofree char *templ = g_build_filename (job->clips_dir, ".tmp-XXXXXX", NULL);
    g_autoptr(GError) local = NULL;
    tmp = wkp_io_make_temp_dir (templ, 0777, &local);
    if (tmp == NULL)
      {
        c->status = WKP_CLIP_FAILED;
        c->error = g_strdup_printf ("%s: cannot create a temporary folder: %s", job->clips_dir, local->message);
        return;
      }
  }
  if (!compute_clip (job, e, rec, tmp, &job->lm_reused[i], &error))
    {
      wkp_io_unregister_temp_dir (tmp);
      remove_tree (tmp);
      c->status = WKP_CLIP_FAILED;
      g_free (c->error);
      c->error = g_strdup (error->message);
      g_clear_pointer (&c->feature_mean, g_free);
      g_clear_pointer (&c->feature_std, g_free);
      g_clear_pointer (&rec->face_mean, g_free);
      if (error_is_clip_fault (error))
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();
          g_autoptr(JsonNode) node = NULL;
          g_autoptr(GBytes) bytes = NULL;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, e->name);
          json_builder_set_member_name (b, "key");
          json_builder_add_string_value (b, rec->key);
          json_builder_set_member_name (b, "error");
          json_builder_add_string_value (b, error->message);
          json_builder_end_object (b);
          node = json_builder_get_root (b);
          bytes = wkp_json_to_bytes (node);
          wkp_write_file_atomic (failed_path, bytes, NULL);
        }
      return;
    }
  moved = g_rename (tmp, dir) == 0;
  rename_errno = errno;
  wkp_io_unregister_temp_dir (tmp);   /* (after: a signal in between finds it moved) */
  if (!moved)
    {
      int err = rename_errno;
      remove_tree (tmp);
      if (!(g_file_test (record_path, G_FILE_TEST_IS_REGULAR) && (err == EEXIST || err == ENOTEMPTY)))
        {
          c->status = WKP_CLIP_FAILED;
          g_free (c->error);
          c->error = g_strdup_printf ("%s: cannot move the clip into place: %s", dir, g_strerror (err));
        }
    }
  g_unlink (failed_path);
}

static gpointer
worker (gpointer data)
{
  Job *job = data;
  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&job->next, 1);
      if (i >= job->entries->len)
        break;
      if (g_cancellable_is_cancelled (job->cancellable))
        break;
      process_entry (job, i);
      g_mutex_lock (&job->lock);
      job->done++;
      if (job->progress)
        job->progress (job->done, job->entries->len, ((WkpSourceEntry *) job->entries->pdata[i])->name,
                       job->progress_data);
      g_mutex_unlock (&job->lock);
    }
  return NULL;
}

/* Indexes existing clip folders by landmark key (for reuse) and removes
 * temporary folders left by a killed run. */
static void
scan_existing (Job *job)
{
  g_autoptr(GDir) dir = g_dir_open (job->clips_dir, 0, NULL);
  const char *n;
  if (dir == NULL)
    return;
  while ((n = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (job->clips_dir, n, NULL);
      g_autofree char *rp = NULL;
      g_autoptr(JsonNode) node = NULL;
      JsonObject *o;
      const char *lk;
      if (g_str_has_prefix (n, ".tmp-"))
        {
          remove_tree (path);
          continue;
        }
      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      rp = g_build_filename (path, "clip.json", NULL);
      node = wkp_json_load_file (rp, NULL);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        continue;
      o = json_node_get_object (node);
      lk = wkp_json_get_string (o, "landmark_key");
      if (lk != NULL && g_strcmp0 (wkp_json_get_string (o, "status"), "ok") == 0)
        g_hash_table_insert (job->old_landmarks, g_strdup (lk), g_steal_pointer (&path));
    }
}

/* The name part of a clip id "<name>-<12 hex digits of the key>". */
static char *
clip_id_name (const char *id)
{
  const char *dash = strrchr (id, '-');
  return dash != NULL && strlen (dash + 1) == 12 ? g_strndup (id, (gsize) (dash - id)) : g_strdup (id);
}

/* Deletes the clip folders (and failure records) the run did not keep;
 * returns how many clips went, counting in @superseded those that were an
 * older version of a clip the source still lists (same name, another key:
 * other settings or changed inputs), which the CLI reported as clips the
 * source "no longer lists". */
static int
remove_stale (Job *job, int *superseded)
{
  int n_removed = 0;
  g_autoptr(GHashTable) kept_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDir) dir = g_dir_open (job->clips_dir, 0, NULL);
  const char *n;
  for (guint i = 0; i < job->entries->len; i++)
    if (job->records[i].clip.id != NULL)
      {
        g_hash_table_add (keep, job->records[i].clip.id);
        g_hash_table_add (kept_names, clip_id_name (job->records[i].clip.id));
      }
  *superseded = 0;
  if (dir == NULL)
    return 0;
  while ((n = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (job->clips_dir, n, NULL);
      g_autofree char *base = g_strdup (n);
      if (g_str_has_suffix (base, ".failed.json"))
        base[strlen (base) - strlen (".failed.json")] = '\0';
      if (g_hash_table_contains (keep, base))
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          g_autofree char *name = clip_id_name (base);
          remove_tree (path);
          if (g_hash_table_contains (kept_names, name))
            (*superseded)++;
          else
            n_removed++;
        }
      else if (g_str_has_suffix (n, ".failed.json"))
        g_unlink (path);
    }
  return n_removed;
}

static guint
compute_flags (const WkpDatasetClip *c, const WkpPrepareParams *P)
{
  guint flags = 0;
  if (c->status != WKP_CLIP_OK)
    return 0;
  if (offset_is_unsure (c, P))
    flags |= WKP_CLIP_FLAG_OFFSET_UNSURE;
  else if (offset_is_flagged (c, P))
    flags |= WKP_CLIP_FLAG_OFFSET;
  if (c->face_rate < P->min_face_rate)
    flags |= WKP_CLIP_FLAG_LOW_FACE_RATE;
  if (fabs (c->audio_seconds - c->video_seconds) > P->max_length_mismatch)
    flags |= WKP_CLIP_FLAG_LENGTH_MISMATCH;
  if (c->audio_inverted > 0)
    flags |= WKP_CLIP_FLAG_AUDIO_INVERTED;
  if (isfinite (c->timing_error_ms) && wkp_media_timing_irregular ((gint64) llround (c->timing_error_ms * 1000), c->fps))
    flags |= WKP_CLIP_FLAG_IRREGULAR_TIMING;
  if (c->audio_rate > 0 && c->audio_rate < WKP_AUDIO_RATE)
    flags |= WKP_CLIP_FLAG_LOW_AUDIO_RATE;
  return flags;
}

static JsonNode *
params_to_json (const WkpPrepareParams *P)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *mfps = wkp_rational_to_string (P->model_fps);
  g_autofree char *sfps = wkp_rational_is_valid (P->sequence_fps) ? wkp_rational_to_string (P->sequence_fps)
                                                                    : g_strdup ("frames.json, else 25/1");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "features");
  json_builder_add_value (b, wkp_feature_config_to_json (&P->features));
  json_builder_set_member_name (b, "landmarks");
  json_builder_add_value (b, wkp_landmark_params_to_json (&P->landmarks));
  json_builder_set_member_name (b, "model_fps");
  json_builder_add_string_value (b, mfps);
  json_builder_set_member_name (b, "sequence_fps");
  json_builder_add_string_value (b, sfps);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) P->seed);
  json_builder_set_member_name (b, "val_fraction");
  json_builder_add_double_value (b, P->val_fraction);
  json_builder_set_member_name (b, "test_fraction");
  json_builder_add_double_value (b, P->test_fraction);
  json_builder_set_member_name (b, "dominant_share");
  json_builder_add_double_value (b, P->dominant_share);
  json_builder_set_member_name (b, "train_speakers");
  json_builder_begin_array (b);
  for (int i = 0; P->train_speakers && P->train_speakers[i]; i++)
    json_builder_add_string_value (b, P->train_speakers[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "fix_offset");
  json_builder_add_boolean_value (b, P->fix_offset);
  json_builder_set_member_name (b, "max_lag");
  json_builder_add_int_value (b, P->max_lag);
  json_builder_set_member_name (b, "offset_flag");
  json_builder_add_int_value (b, P->offset_flag);
  json_builder_set_member_name (b, "min_offset_confidence");
  json_builder_add_double_value (b, P->min_offset_confidence);
  json_builder_set_member_name (b, "min_offset_gain");
  json_builder_add_double_value (b, P->min_offset_gain);
  json_builder_set_member_name (b, "min_face_rate");
  json_builder_add_double_value (b, P->min_face_rate);
  json_builder_set_member_name (b, "max_length_mismatch");
  json_builder_add_double_value (b, P->max_length_mismatch);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
same_contents (const char *path, GBytes *bytes)
{
  g_autoptr(GBytes) old = wkp_read_file (path, NULL);
  return old != NULL && g_bytes_equal (old, bytes);
}

static gboolean
add_if_changed (WkpOutput *out, const char *path, GBytes *bytes, GError **error)
{
  if (same_contents (path, bytes))
    return TRUE;
  return wkp_output_add_bytes (out, path, bytes, error);
}

static gboolean
finalize (Job *job, const char *src, WkpPrepareReport *report, GError **error)
{
  const WkpPrepareParams *P = job->params;
  guint n = job->entries->len;
  g_autoptr(GHashTable) spk_index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) spk_names = g_ptr_array_new ();
  g_autoptr(GArray) spk_frames = g_array_new (FALSE, TRUE, sizeof (gint64));
  g_autoptr(GArray) spk_clips = g_array_new (FALSE, TRUE, sizeof (gint64));
  g_autofree WkpSplit *splits = NULL;
  int dim = wkp_feature_config_dim (&P->features);
  g_autofree double *fsum = g_new0 (double, dim), *fsq = g_new0 (double, dim);
  g_autofree float *fmean = g_new0 (float, dim), *fstd = g_new0 (float, dim);
  double face_acc[WKP_N_LANDMARKS * 2] = { 0 };
  float mean_face[WKP_N_LANDMARKS * 2];
  gint64 frows = 0, face_n = 0;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(WkpOutput) out = wkp_output_new ();
  g_autofree char *abs_src = g_canonicalize_filename (src, NULL);
  WkpPrepareReport rep = { 0 };

  /* speakers and splits */
  for (guint i = 0; i < n; i++)
    {
      WkpDatasetClip *c = &job->records[i].clip;
      gpointer idx;
      gint64 zero = 0;
      /* only speakers with usable clips take part in the split */
      if (c->status != WKP_CLIP_OK)
        continue;
      if (!g_hash_table_lookup_extended (spk_index, c->speaker, NULL, &idx))
        {
          idx = GINT_TO_POINTER (spk_names->len);
          g_hash_table_insert (spk_index, c->speaker, idx);
          g_ptr_array_add (spk_names, c->speaker);
          g_array_append_val (spk_frames, zero);
          g_array_append_val (spk_clips, zero);
        }
      if (c->status == WKP_CLIP_OK)
        {
          g_array_index (spk_frames, gint64, GPOINTER_TO_INT (idx)) += c->n_frames;
          g_array_index (spk_clips, gint64, GPOINTER_TO_INT (idx)) += 1;
        }
    }
  splits = wkp_dataset_assign_splits ((const char * const *) spk_names->pdata, (gint64 *) spk_frames->data,
                                      (int) spk_names->len, P);

  for (int pass = 0; pass < 2 && frows == 0; pass++)
    for (guint i = 0; i < n; i++)
      {
        WkpClipRecord *rec = &job->records[i];
        WkpDatasetClip *c = &rec->clip;
        if (pass == 0)
          {
            gpointer idx;
            if (g_hash_table_lookup_extended (spk_index, c->speaker, NULL, &idx))
              c->split = splits[GPOINTER_TO_INT (idx)];
            else
              c->split = WKP_SPLIT_NONE;
            c->flags = compute_flags (c, P);
          }
        /* statistics over the train split (all clips if train is empty) */
        if (c->status != WKP_CLIP_OK || (pass == 0 && c->split != WKP_SPLIT_TRAIN))
          continue;
        if (c->feature_mean != NULL && rec->feature_dim == dim)
          for (int d = 0; d < dim; d++)
            {
              double m = c->feature_mean[d], s = c->feature_std[d];
              fsum[d] += m * c->n_feature_frames;
              fsq[d] += (s * s + m * m) * c->n_feature_frames;
            }
        frows += c->n_feature_frames;
        if (rec->face_mean != NULL)
          {
            for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
              face_acc[k] += (double) rec->face_mean[k] * c->n_face_frames;
            face_n += c->n_face_frames;
          }
      }
  for (int d = 0; d < dim; d++)
    {
      double m = frows > 0 ? fsum[d] / frows : 0;
      double v = frows > 0 ? fsq[d] / frows - m * m : 1;
      fmean[d] = (float) m;
      fstd[d] = (float) MAX (sqrt (MAX (v, 0)), 1e-5);
    }
  for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
    mean_face[k] = face_n > 0 ? (float) (face_acc[k] / face_n) : wkp_face_canonical ()[k];

  for (guint i = 0; i < n; i++)
    {
      const WkpDatasetClip *c = &job->records[i].clip;
      rep.n_clips++;
      if (c->status == WKP_CLIP_OK)
        {
          rep.n_ok++;
          rep.n_frames += c->n_frames;
          rep.n_feature_frames += c->n_feature_frames;
          if (c->flags)
            rep.n_flagged++;
          if (job->computed[i])
            rep.n_computed++;
          else
            rep.n_cached++;
          if (job->computed[i] && job->lm_reused[i])
            rep.n_landmarks_reused++;
        }
      else if (c->status == WKP_CLIP_FAILED)
        {
          rep.n_failed++;
          if (job->computed[i])
            rep.n_computed++;
          if (job->from_record[i])
            rep.n_failed_recorded++;
        }
      else
        rep.n_skipped++;
    }
  {
    /* the same video and sound (the same key) in two splits: a model would
     * be scored on a clip it trained on (a folder linked twice under two
     * speakers put one clip in train and in val, without a word) */
    g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
    for (guint i = 0; i < n; i++)
      {
        const WkpClipRecord *r = &job->records[i];
        gpointer j;
        if (r->clip.status != WKP_CLIP_OK || r->key == NULL)
          continue;
        if (!g_hash_table_lookup_extended (seen, r->key, NULL, &j))
          {
            g_hash_table_insert (seen, r->key, GUINT_TO_POINTER (i));
            continue;
          }
        if (job->records[GPOINTER_TO_UINT (j)].clip.split != r->clip.split)
          {
            const WkpDatasetClip *first = &job->records[GPOINTER_TO_UINT (j)].clip;
            if (rep.n_duplicates++ == 0)
              g_snprintf (rep.duplicate_example, sizeof rep.duplicate_example, "%s (%s) = %s (%s)", r->clip.name,
                          wkp_split_to_string (r->clip.split), first->name, wkp_split_to_string (first->split));
          }
      }
  }

  /* manifest */
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "wav2kp-dataset");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, WKP_DATASET_FORMAT_VERSION);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, abs_src);
  json_builder_set_member_name (b, "params");
  json_builder_add_value (b, params_to_json (P));
  json_builder_set_member_name (b, "feature_dim");
  json_builder_add_int_value (b, dim);
  json_builder_set_member_name (b, "summary");
  json_builder_begin_object (b);
  {
    const char *names[] = { "n_clips", "n_ok", "n_failed", "n_skipped", "n_flagged" };
    int vals[] = { rep.n_clips, rep.n_ok, rep.n_failed, rep.n_skipped, rep.n_flagged };
    for (guint k = 0; k < G_N_ELEMENTS (names); k++)
      {
        json_builder_set_member_name (b, names[k]);
        json_builder_add_int_value (b, vals[k]);
      }
    json_builder_set_member_name (b, "n_frames");
    json_builder_add_int_value (b, rep.n_frames);
    json_builder_set_member_name (b, "n_feature_frames");
    json_builder_add_int_value (b, rep.n_feature_frames);
    json_builder_set_member_name (b, "n_speakers");
    json_builder_add_int_value (b, spk_names->len);
    json_builder_set_member_name (b, "stats_rows");
    json_builder_add_int_value (b, frows);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "speakers");
  json_builder_begin_array (b);
  for (guint s = 0; s < spk_names->len; s++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, spk_names->pdata[s]);
      json_builder_set_member_name (b, "split");
      json_builder_add_string_value (b, wkp_split_to_string (splits[s]));
      json_builder_set_member_name (b, "n_clips");
      json_builder_add_int_value (b, g_array_index (spk_clips, gint64, s));
      json_builder_set_member_name (b, "n_frames");
      json_builder_add_int_value (b, g_array_index (spk_frames, gint64, s));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "splits");
  json_builder_begin_object (b);
  for (int sp = WKP_SPLIT_TRAIN; sp <= WKP_SPLIT_TEST; sp++)
    {
      json_builder_set_member_name (b, wkp_split_to_string (sp));
      json_builder_begin_array (b);
      for (guint s = 0; s < spk_names->len; s++)
        if ((int) splits[s] == sp)
          json_builder_add_string_value (b, spk_names->pdata[s]);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "feature_mean");
  json_builder_begin_array (b);
  for (int d = 0; d < dim; d++)
    json_builder_add_double_value (b, fmean[d]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "feature_std");
  json_builder_begin_array (b);
  for (int d = 0; d < dim; d++)
    json_builder_add_double_value (b, fstd[d]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "mean_face");
  json_builder_begin_array (b);
  for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
    json_builder_add_double_value (b, mean_face[k]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "clips");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    json_builder_add_value (b, wkp_clip_record_to_json (&job->records[i], FALSE));
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);

  {
    g_autofree char *p_mean = g_build_filename (job->out_dir, "feature_mean.npy", NULL);
    g_autofree char *p_std = g_build_filename (job->out_dir, "feature_std.npy", NULL);
    g_autofree char *p_face = g_build_filename (job->out_dir, "mean_face.npy", NULL);
    g_autofree char *p_man = g_build_filename (job->out_dir, WKP_DATASET_MANIFEST, NULL);
    g_autofree char *p_cmean = g_build_filename (job->out_dir, "clip_feature_mean.npy", NULL);
    g_autofree char *p_cstd = g_build_filename (job->out_dir, "clip_feature_std.npy", NULL);
    gint64 scs[2] = { n, dim };
    g_autofree float *cmean = g_new (float, MAX ((gsize) n * dim, 1));
    g_autofree float *cstd = g_new (float, MAX ((gsize) n * dim, 1));
    g_autoptr(GBytes) b_cmean = NULL;
    g_autoptr(GBytes) b_cstd = NULL;
    gint64 sd[1] = { dim }, sfc[2] = { WKP_N_LANDMARKS, 2 };
    g_autoptr(GBytes) b_mean = wkp_npy_encode (WKP_DTYPE_F32, 1, sd, fmean);
    g_autoptr(GBytes) b_std = wkp_npy_encode (WKP_DTYPE_F32, 1, sd, fstd);
    g_autoptr(GBytes) b_face = wkp_npy_encode (WKP_DTYPE_F32, 2, sfc, mean_face);
    g_autofree char *text = wkp_json_to_string (root, TRUE);
    for (guint i = 0; i < n; i++)
      {
        const WkpClipRecord *rec = &job->records[i];
        for (int d = 0; d < dim; d++)
          {
            gboolean have = rec->clip.status == WKP_CLIP_OK && rec->clip.feature_mean && rec->feature_dim == dim;
            cmean[(gsize) i * dim + d] = have ? (float) rec->clip.feature_mean[d] : NAN;
            cstd[(gsize) i * dim + d] = have ? (float) rec->clip.feature_std[d] : NAN;
          }
      }
    b_cmean = wkp_npy_encode (WKP_DTYPE_F32, 2, scs, cmean);
    b_cstd = wkp_npy_encode (WKP_DTYPE_F32, 2, scs, cstd);
    g_autofree char *text_nl = g_strconcat (text, "\n", NULL);
    g_autoptr(GBytes) b_man = g_bytes_new (text_nl, strlen (text_nl));
    if (!add_if_changed (out, p_mean, b_mean, error) || !add_if_changed (out, p_std, b_std, error)
        || !add_if_changed (out, p_face, b_face, error) || !add_if_changed (out, p_cmean, b_cmean, error)
        || !add_if_changed (out, p_cstd, b_cstd, error) || !add_if_changed (out, p_man, b_man, error)
        || !wkp_output_commit (out, error))
      return FALSE;
  }
  rep.n_removed = remove_stale (job, &rep.n_superseded);
  if (report)
    *report = rep;
  return TRUE;
}

gboolean
wkp_dataset_prepare (const char *src, const char *out_dir, const WkpPrepareParams *params,
                     WkpProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                     WkpPrepareReport *report, GError **error)
{
  Job job = { 0 };
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GPtrArray) threads = NULL;
  g_autofree char *lock_path = NULL;
  g_autoptr(JsonNode) fj = NULL;
  g_autoptr(JsonNode) lj = NULL;
  int lock_fd = -1;
  gboolean ok = FALSE, created_out = FALSE;
  int n_jobs;

  g_return_val_if_fail (src != NULL && out_dir != NULL && params != NULL, FALSE);

  if (!wkp_feature_config_validate (&params->features, error))
    return FALSE;
  if (!wkp_rational_is_valid (params->model_fps)
      || !(wkp_rational_is_valid (params->sequence_fps) || (params->sequence_fps.num == 0 && params->sequence_fps.den == 0)))
    {
      g_set_error_literal (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "invalid model or sequence frame rate");
      return FALSE;
    }
  if (params->max_lag < 1 || params->max_lag > 31 || params->val_fraction < 0 || params->test_fraction < 0
      || params->val_fraction + params->test_fraction >= 1.0)
    {
      g_set_error_literal (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                           "invalid params: max lag must be 1..31 and val + test fractions below 1");
      return FALSE;
    }
  entries = wkp_dataset_list_sources (src, error);
  if (entries == NULL)
    return FALSE;

  /* a dataset made from another source: preparing this one into it would
   * delete the clips it does not list (hours of landmarks, perhaps) */
  if (!params->replace)
    {
      g_autofree char *manifest = g_build_filename (out_dir, "dataset.json", NULL);
      g_autoptr(JsonNode) old = g_file_test (manifest, G_FILE_TEST_IS_REGULAR) ? wkp_json_load_file (manifest, NULL)
                                                                               : NULL;
      const char *old_src = old != NULL && JSON_NODE_HOLDS_OBJECT (old)
                              ? wkp_json_get_string (json_node_get_object (old), "source") : NULL;
      g_autofree char *abs_src = g_canonicalize_filename (src, NULL);
      /* the same file or folder by another path (a symlink) is the same source */
      if (old_src != NULL && strcmp (old_src, abs_src) != 0 && !wkp_path_same_file (old_src, src))
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: was prepared from %s, not %s; preparing into it would delete its clips that %s does not "
                       "list (give --replace to do that, or choose another folder)", out_dir, old_src, abs_src, src);
          return FALSE;
        }
    }

  created_out = !g_file_test (out_dir, G_FILE_TEST_EXISTS);
  if (created_out)
    {
      /* only the dataset folder itself is made, as other outputs need their folder */
      g_autofree char *trimmed = g_strdup (out_dir);
      g_autofree char *parent = NULL;
      gsize n = strlen (trimmed);
      while (n > 1 && G_IS_DIR_SEPARATOR (trimmed[n - 1]))
        trimmed[--n] = '\0';
      parent = g_path_get_dirname (trimmed);
      if (!g_file_test (parent, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, WKP_IO_ERROR, WKP_ERROR_NOT_FOUND, "Cannot create %s: folder %s does not exist",
                       out_dir, parent);
          return FALSE;
        }
    }
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "%s: cannot create the dataset folder: %s", out_dir,
                   g_strerror (errno));
      return FALSE;
    }
  job.out_dir = g_canonicalize_filename (out_dir, NULL);
  job.clips_dir = g_build_filename (job.out_dir, "clips", NULL);
  /* a first run stopped before any clip was finished leaves no folder (it
   * left DS/ with .lock and an empty clips/, which later commands called
   * not a prepared dataset); one with finished clips keeps them, to resume */
  if (created_out)
    wkp_io_register_new_folder (job.out_dir, job.clips_dir);
  if (g_mkdir_with_parents (job.clips_dir, 0755) != 0)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "%s: cannot create: %s", job.clips_dir, g_strerror (errno));
      goto out;
    }
  lock_path = g_build_filename (job.out_dir, ".lock", NULL);
  lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || flock (lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO,
                   "%s: %s", job.out_dir,
                   lock_fd < 0 ? g_strerror (errno) : "another “wav2kp prepare” is writing this dataset");
      goto out;
    }

  job.params = params;
  job.entries = entries;
  job.records = g_new0 (WkpClipRecord, MAX (entries->len, 1));
  job.computed = g_new0 (gboolean, MAX (entries->len, 1));
  job.lm_reused = g_new0 (gboolean, MAX (entries->len, 1));
  job.from_record = g_new0 (gboolean, MAX (entries->len, 1));
  fj = wkp_feature_config_to_key_json (&params->features);
  lj = wkp_landmark_params_to_json (&params->landmarks);
  job.feature_json = wkp_json_to_string (fj, FALSE);
  job.landmark_json = wkp_json_to_string (lj, FALSE);
  job.old_landmarks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  job.cancellable = cancellable;
  job.progress = progress;
  job.progress_data = progress_data;
  g_mutex_init (&job.lock);
  scan_existing (&job);

  n_jobs = CLAMP (params->n_jobs, 1, 64);
  threads = g_ptr_array_new ();
  for (int t = 0; t < n_jobs - 1; t++)
    g_ptr_array_add (threads, g_thread_new ("wkp-prepare", worker, &job));
  worker (&job);
  for (guint t = 0; t < threads->len; t++)
    g_thread_join (threads->pdata[t]);
  g_mutex_clear (&job.lock);

  if (wkp_check_cancelled (cancellable, error))
    goto out;
  {
    int n_ok = 0, n_failed = 0;
    const char *first = NULL;
    for (guint i = 0; i < entries->len; i++)
      {
        if (job.records[i].clip.status == WKP_CLIP_OK)
          n_ok++;
        else if (job.records[i].clip.status == WKP_CLIP_FAILED)
          {
            n_failed++;
            if (first == NULL)
              first = job.records[i].clip.error;
          }
      }
    if (n_ok == 0)
      {
        /* no dataset: leave no manifest behind (and no folder if we made it) */
        if (first != NULL)
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: no clip could be prepared (%d failed; first: %s)", src, n_failed, first);
        else if (entries->len == 0)
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: no clip to prepare (no rows)", src);
        else
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: no video clip to prepare (only audio-only rows)", src);
        if (created_out)
          remove_tree_all (job.out_dir);
        goto out;
      }
  }
  ok = finalize (&job, src, report, error);

out:
  if (created_out)
    wkp_io_register_new_folder (NULL, NULL);
  if (job.records)
    for (guint i = 0; i < entries->len; i++)
      wkp_clip_record_clear (&job.records[i]);
  g_free (job.records);
  g_free (job.computed);
  g_free (job.lm_reused);
  g_free (job.from_record);
  g_free (job.out_dir);
  g_free (job.clips_dir);
  g_free (job.feature_json);
  g_free (job.landmark_json);
  g_clear_pointer (&job.old_landmarks, g_hash_table_unref);
  if (lock_fd >= 0)
    close (lock_fd);
  return ok;
}
