/* wkp-evaluate.c: models, landmark tracks and baselines against a dataset
 * split. Clip-major: each clip's reference is loaded and normalised once,
 * then every entry is predicted and accumulated (per clip and pooled). */
#include "wkp-evaluate.h"

#include "wkp-io.h"
#include "wkp-landmarks.h"
#include "wkp-model.h"
#include "wkp-plot.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NXY (WKP_N_LANDMARKS * 2)
#define DATASET_AUDIO_RATE 16000

const char *
wkp_eval_kind_to_string (WkpEvalKind kind)
{
  switch (kind)
    {
    case WKP_EVAL_MODEL: return "model";
    case WKP_EVAL_TRACKS: return "tracks";
    case WKP_EVAL_MEAN_FACE: return "mean-face";
    case WKP_EVAL_ENERGY: return "energy";
    case WKP_EVAL_ORACLE_MOTION: return "oracle-motion";
    case WKP_EVAL_ORACLE_LEVEL: return "oracle-level";
    default: return "unknown";
    }
}

gboolean
wkp_eval_kind_is_oracle (WkpEvalKind kind)
{
  return kind == WKP_EVAL_ORACLE_MOTION || kind == WKP_EVAL_ORACLE_LEVEL;
}

/* The oracles of one clip from its normalised reference @ref (NaN frames: no
 * face): the reference's motion around @mean_face, or its constant clip mean. */
static void
oracle_track (WkpEvalKind kind, const float *ref, gint64 n, const float *mean_face, float *out)
{
  double m[NXY] = { 0 };
  gint64 used = 0;

  for (gint64 t = 0; t < n; t++)
    if (isfinite (ref[t * NXY]))
      {
        for (int i = 0; i < NXY; i++)
          m[i] += ref[t * NXY + i];
        used++;
      }
  for (gint64 t = 0; t < n; t++)
    for (int i = 0; i < NXY; i++)
      {
        float *o = &out[t * NXY + i];
        if (used == 0)
          *o = NAN;
        else if (kind == WKP_EVAL_ORACLE_LEVEL)
          *o = (float) (m[i] / used);
        else
          *o = (float) ((double) ref[t * NXY + i] - m[i] / used + mean_face[i]);   /* NaN stays NaN */
      }
}

void
wkp_eval_params_init_default (WkpEvalParams *params)
{
  memset (params, 0, sizeof *params);
  params->max_lag = WKP_METRICS_MAX_LAG;
  params->baselines = TRUE;
  params->n_threads = 1;
  params->bootstrap = 1000;
  params->seed = 1;
}

/* Linear-interpolated percentile @q of the finite values of @v (sorted in place). */
static double
percentile (double *v, int n, double q)
{
  int m = 0;
  double pos;
  for (int i = 0; i < n; i++)
    if (isfinite (v[i]))
      v[m++] = v[i];
  if (m == 0)
    return NAN;
  wkp_metrics_sort (v, m);
  pos = q * (m - 1);
  return v[(int) floor (pos)] + (pos - floor (pos)) * (v[(int) ceil (pos)] - v[(int) floor (pos)]);
}

static gboolean
is_predictor (const WkpEvalEntry *entry)
{
  return entry->problem == NULL && (entry->kind == WKP_EVAL_MODEL || entry->kind == WKP_EVAL_TRACKS);
}

/* The difference @x[b*E + j] - @x[b*E + i] over the resamples: its 95%
 * interval, and the fraction of resamples in which it is positive (@sign 1)
 * or negative (@sign -1); NaN when no resample has both. */
static void
paired_difference (const double *x, int B, int E, int i, int j, int sign, double *col, double ci[2],
                   double *better)
{
  int n = 0, wins = 0;
  for (int b = 0; b < B; b++)
    if (isfinite (x[b * E + i]) && isfinite (x[b * E + j]))
      {
        col[n] = x[b * E + j] - x[b * E + i];
        wins += sign * col[n] > 0;
        n++;
      }
  if (n == 0)
    {
      ci[0] = ci[1] = *better = NAN;
      return;
    }
  *better = (double) wins / n;
  ci[0] = percentile (col, n, 0.025);
  ci[1] = percentile (col, n, 0.975);
}

/* Paired bootstrap over clips: the same resamples for every entry. */
static void
bootstrap (WkpEvaluation *ev, int n_resamples, guint32 seed)
{
  int E = ev->n_entries, B = n_resamples, energy = -1, mean = -1;
  g_autofree double *r = NULL, *lmd = NULL, *col = NULL;
  g_autofree int *pick = NULL;
  GRand *rng;

  for (int e = 0; e < E; e++)
    {
      WkpEvalEntry *entry = &ev->entries[e];
      entry->lmd_mouth_ci[0] = entry->lmd_mouth_ci[1] = NAN;
      entry->aperture_r_ci[0] = entry->aperture_r_ci[1] = NAN;
      entry->r_above_energy = entry->lmd_below_mean_face = NAN;
      if (entry->problem == NULL && entry->kind == WKP_EVAL_ENERGY)
        energy = e;
      if (entry->problem == NULL && entry->kind == WKP_EVAL_MEAN_FACE)
        mean = e;
    }
  if (B <= 0 || ev->n_clips < 2)
    return;
  ev->n_bootstrap = B;
  r = g_new (double, (gsize) B * E);
  lmd = g_new (double, (gsize) B * E);
  col = g_new (double, B);
  pick = g_new (int, ev->n_clips);
  rng = g_rand_new_with_seed (seed);
  for (int b = 0; b < B; b++)
    {
      for (int k = 0; k < ev->n_clips; k++)
        pick[k] = g_rand_int_range (rng, 0, ev->n_clips);
      for (int e = 0; e < E; e++)
        if (ev->entries[e].problem == NULL)
          wkp_metrics_combine (ev->entries[e].clips, pick, ev->n_clips, &lmd[b * E + e], &r[b * E + e], NULL);
        else
          lmd[b * E + e] = r[b * E + e] = NAN;
    }
  g_rand_free (rng);

  for (int e = 0; e < E; e++)
    {
      WkpEvalEntry *entry = &ev->entries[e];
      if (entry->problem != NULL)
        continue;
      for (int b = 0; b < B; b++)
        col[b] = r[b * E + e];
      entry->aperture_r_ci[0] = percentile (col, B, 0.025);
      for (int b = 0; b < B; b++)
        col[b] = r[b * E + e];
      entry->aperture_r_ci[1] = percentile (col, B, 0.975);
      for (int b = 0; b < B; b++)
        col[b] = lmd[b * E + e];
      entry->lmd_mouth_ci[0] = percentile (col, B, 0.025);
      for (int b = 0; b < B; b++)
        col[b] = lmd[b * E + e];
      entry->lmd_mouth_ci[1] = percentile (col, B, 0.975);
      if (!is_predictor (entry))
        continue;
      if (energy >= 0)
        {
          int n = 0, wins = 0;
          for (int b = 0; b < B; b++)
            if (isfinite (r[b * E + e]) && isfinite (r[b * E + energy]))
              {
                n++;
                wins += r[b * E + e] > r[b * E + energy];
              }
          entry->r_above_energy = n > 0 ? (double) wins / n : NAN;
        }
      if (mean >= 0)
        {
          int n = 0, wins = 0;
          for (int b = 0; b < B; b++)
            if (isfinite (lmd[b * E + e]) && isfinite (lmd[b * E + mean]))
              {
                n++;
                wins += lmd[b * E + e] < lmd[b * E + mean];
              }
          entry->lmd_below_mean_face = n > 0 ? (double) wins / n : NAN;
        }
    }

  /* every pair of models / track folders, on the same resamples */
  for (int i = 0; i < E; i++)
    for (int j = i + 1; j < E; j++)
      {
        WkpEvalComparison *c;
        if (!is_predictor (&ev->entries[i]) || !is_predictor (&ev->entries[j]))
          continue;
        ev->comparisons = g_renew (WkpEvalComparison, ev->comparisons, ev->n_comparisons + 1);
        c = &ev->comparisons[ev->n_comparisons++];
        c->a = i;
        c->b = j;
        c->r_diff = ev->entries[j].pooled.aperture_r - ev->entries[i].pooled.aperture_r;
        c->lmd_diff = ev->entries[j].pooled.lmd_mouth - ev->entries[i].pooled.lmd_mouth;
        paired_difference (r, B, E, i, j, 1, col, c->r_diff_ci, &c->b_r_higher);
        paired_difference (lmd, B, E, i, j, -1, col, c->lmd_diff_ci, &c->b_lmd_lower);
        if (!isfinite (c->r_diff))
          c->r_diff_ci[0] = c->r_diff_ci[1] = c->b_r_higher = NAN;
        if (!isfinite (c->lmd_diff))
          c->lmd_diff_ci[0] = c->lmd_diff_ci[1] = c->b_lmd_lower = NAN;
      }
}

void
wkp_evaluation_free (WkpEvaluation *ev)
{
  if (ev == NULL)
    return;
  g_strfreev (ev->speakers);
  for (int e = 0; e < ev->n_entries; e++)
    {
      WkpEvalEntry *entry = &ev->entries[e];
      g_free (entry->label);
      g_free (entry->path);
      g_free (entry->problem);
      g_strfreev (entry->missing);
      g_free (entry->note);
      g_strfreev (entry->trained_on);
      g_strfreev (entry->validated_on);
      g_free (entry->clips);
      if (entry->aperture != NULL)
        for (int c = 0; c < ev->n_clips; c++)
          g_free (entry->aperture[c]);
      g_free (entry->aperture);
    }
  g_free (ev->entries);
  g_free (ev->comparisons);
  for (int c = 0; c < ev->n_clips; c++)
    {
      g_free (ev->clip_name[c]);
      g_free (ev->clip_speaker[c]);
      if (ev->ref_aperture != NULL)
        g_free (ev->ref_aperture[c]);
    }
  g_free (ev->clip_index);
  g_free (ev->clip_name);
  g_free (ev->clip_speaker);
  g_free (ev->clip_fps);
  g_free (ev->clip_frames);
  g_free (ev->ref_aperture);
  g_free (ev->dataset);
  g_free (ev);
}

/* Per-entry working state that does not belong in the result. */
typedef struct {
  WkpModel         *model;
  WkpLandmarkTrack *single_track;   /* a track file for a one-clip split */
  WkpMetricsAccum  *pooled;
  WkpMetricsAccum  *clip;
} EntryState;

static gboolean
looks_like_model (const char *path)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInputStream) in = NULL;
  char magic[8] = { 0 };
  gsize got = 0;

  if (g_str_has_suffix (path, ".wkpm"))
    return TRUE;
  file = g_file_new_for_path (path);
  in = g_file_read (file, NULL, NULL);
  if (in == NULL)
    return FALSE;
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), magic, sizeof magic, &got, NULL, NULL))
    return FALSE;
  return got == sizeof magic && memcmp (magic, WKP_MODEL_MAGIC, sizeof magic) == 0;
}

static char *
file_stem (const char *name)
{
  g_autofree char *base = g_path_get_basename (name);
  char *dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  return g_steal_pointer (&base);
}

/* The track of clip @c in folder @dir: ID.npy, ID.csv, STEM.npy, STEM.csv.
 * Anything by such a name counts (a folder too: its load fails with a
 * message, where it used to score as a clip with no track). */
static char *
find_clip_track (const char *dir, const WkpDatasetClip *clip)
{
  g_autofree char *stem = file_stem (clip->name);
  const char *names[2] = { clip->id, stem };
  const char *exts[] = { ".npy", ".csv", ".json" };

  for (int i = 0; i < 2; i++)
    for (guint k = 0; k < G_N_ELEMENTS (exts); k++)
      {
        g_autofree char *file = NULL, *path = NULL;
        if (names[i] == NULL)
          continue;
        file = g_strconcat (names[i], exts[k], NULL);
        path = g_build_filename (dir, file, NULL);
        if (g_file_test (path, G_FILE_TEST_EXISTS))
          return g_steal_pointer (&path);
      }
  return NULL;
}

/* Copies @track (read from @file) onto the @n frames of @clip: resampled when the
 * track has a different (known) rate, then truncated or NaN-padded by a frame or a
 * few. A length off by more than a second and more than a tenth of the clip is refused: the track
 * of another clip or an edited video, and scoring it would only measure the mismatch. */
static gboolean
track_to_clip (const WkpLandmarkTrack *track, const char *file, const WkpDatasetClip *clip, gint64 n, float *out,
               GError **error)
{
  const WkpRational fps = clip->fps;
  gint64 copy;
  g_autofree float *resampled = NULL;
  const float *src = track->points;
  gint64 n_src = track->n_frames;
  gboolean resample = wkp_rational_is_valid (track->fps) && track->n_frames > 0
                      && (gint64) track->fps.num * fps.den != (gint64) fps.num * track->fps.den;

  /* the length at the clip's rate is checked before resampling: a track of
   * another clip (or a sidecar with a wrong rate) is refused before it can
   * size a large array */
  if (resample)
    n_src = wkp_track_resample_length (track->n_frames, track->fps, fps);
  {
    const double rate = (double) fps.num / fps.den;
    const gint64 off = n_src > n ? n_src - n : n - n_src;
    if (off > MAX (rate, 0.1 * (double) n))
      {
        g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_MISMATCH,
                     "%s: the track covers %.2f s (%" G_GINT64_FORMAT " frames at the clip's rate) but clip %s "
                     "is %.2f s long (%" G_GINT64_FORMAT " frames): it looks like the track of another clip",
                     file, (double) n_src / rate, n_src, clip->name, (double) n / rate, n);
        return FALSE;
      }
  }
  if (resample)
    {
      resampled = wkp_track_resample (track->points, track->n_frames, NXY, track->fps, fps, n_src);
      src = resampled;
    }
  copy = MIN (n, n_src);
  if (copy > 0)
    memcpy (out, src, sizeof (float) * NXY * copy);
  for (gint64 i = copy * NXY; i < n * NXY; i++)
    out[i] = NAN;
  return TRUE;
}

static char *
unique_label (const char *path, const char * const *paths, int n_paths)
{
  g_autofree char *base = g_path_get_basename (path);
  int same = 0;
  for (int i = 0; i < n_paths; i++)
    {
      g_autofree char *other = g_path_get_basename (paths[i]);
      same += g_strcmp0 (other, base) == 0;
    }
  return same > 1 ? g_strdup (path) : g_steal_pointer (&base);
}

/* Reference of one clip: normalised faces and aperture. */
static gboolean
load_reference (const WkpDataset *ds, int index, gint64 n, float *norm, double *aperture, GError **error)
{
  g_autoptr(WkpNpy) npy = wkp_dataset_clip_load (ds, index, WKP_CLIP_ARRAY_LANDMARKS, error);
  if (npy == NULL)
    return FALSE;
  if (npy->dtype != WKP_DTYPE_F32 || npy->n_elements != n * NXY)
    {
      g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_MISMATCH,
                   "Dataset clip %s: landmarks have %" G_GINT64_FORMAT " values, expected %" G_GINT64_FORMAT,
                   wkp_dataset_get_clip (ds, index)->name, npy->n_elements, n * NXY);
      return FALSE;
    }
  wkp_metrics_normalize_track (npy->data, n, norm, aperture);
  return TRUE;
}

static WkpNpy *
load_audio (const WkpDataset *ds, int index, GError **error)
{
  WkpNpy *npy = wkp_dataset_clip_load (ds, index, WKP_CLIP_ARRAY_AUDIO, error);
  if (npy != NULL && npy->dtype != WKP_DTYPE_F32)
    {
      g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_INVALID, "Dataset clip %s: audio is not float32",
                   wkp_dataset_get_clip (ds, index)->name);
      wkp_npy_free (npy);
      return NULL;
    }
  return npy;
}

/* The clips of @split, only those of @speakers when given. */
static GArray *
speaker_indices (const WkpDataset *ds, WkpSplit split, char **speakers, gboolean keep_listed)
{
  GArray *all = wkp_dataset_split_indices (ds, split);
  GArray *out;

  if (speakers == NULL)
    return all;
  out = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; i < all->len; i++)
    {
      int index = g_array_index (all, int, i);
      const char *spk = wkp_dataset_get_clip (ds, index)->speaker;
      if ((spk != NULL && g_strv_contains ((const char * const *) speakers, spk)) == keep_listed)
        g_array_append_val (out, index);
    }
  g_array_unref (all);
  return out;
}

/* The energy baseline's fitting clips: the train split without the evaluated speakers. */
static GArray *
energy_fit_indices (const WkpDataset *ds, const WkpEvaluation *ev)
{
  return speaker_indices (ds, WKP_SPLIT_TRAIN, ev->speakers, FALSE);
}

/* Energy baseline: least-squares line from frame energy (dB) to aperture
 * over the train split (without the evaluated speakers). */
static gboolean
fit_energy (const WkpDataset *ds, WkpEvaluation *ev, WkpProgressFunc progress, gpointer progress_data,
            gint64 *done, gint64 total, GCancellable *cancellable, char **problem, GError **error)
{
  g_autoptr(GArray) train = energy_fit_indices (ds, ev);
  g_autoptr(GArray) xs = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ys = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GError) fit_error = NULL;

  for (guint i = 0; i < train->len; i++)
    {
      int index = g_array_index (train, int, i);
      const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, index);
      gint64 n = clip->n_frames;
      g_autofree float *norm = g_new (float, MAX (n, 1) * NXY);
      g_autofree double *ap = g_new (double, MAX (n, 1));
      g_autofree double *env = g_new (double, MAX (n, 1));
      g_autoptr(WkpNpy) audio = NULL;

      if (wkp_check_cancelled (cancellable, error))
        return FALSE;
      if (!load_reference (ds, index, n, norm, ap, error) || (audio = load_audio (ds, index, error)) == NULL)
        return FALSE;
      wkp_metrics_energy_envelope (audio->data, audio->n_elements, DATASET_AUDIO_RATE, clip->fps, n, env);
      for (gint64 t = 0; t < n; t++)
        if (isfinite (ap[t]))
          {
            g_array_append_val (xs, env[t]);
            g_array_append_val (ys, ap[t]);
          }
      ++*done;
      if (progress != NULL)
        progress (*done, total, "fitting the energy baseline on the train split", progress_data);
    }
  ev->energy_fit_frames = xs->len;
  {
    g_autoptr(GArray) all = wkp_dataset_split_indices (ds, WKP_SPLIT_TRAIN);
    ev->energy_fit_excluded_clips = (int) (all->len - train->len);
  }
  if (!wkp_metrics_linear_fit ((double *) xs->data, (double *) ys->data, xs->len,
                               &ev->energy_slope, &ev->energy_intercept, &fit_error))
    *problem = g_strdup_printf ("cannot fit on the train split (%u clips): %s", train->len, fit_error->message);
  return TRUE;
}

static JsonArray *
strv_to_json (char **v)
{
  JsonArray *a = json_array_new ();
  for (int i = 0; v[i] != NULL; i++)
    json_array_add_string_element (a, v[i]);
  return a;
}

/* The evaluated clips' speakers in @split ("train", "val") of @model's
 * training metadata, or NULL. */
static char **
seen_speakers (const WkpEvaluation *ev, const WkpModel *model, const char *split)
{
  g_auto(GStrv) trained = wkp_model_speakers (model, split);
  GPtrArray *seen;
  if (trained == NULL)
    return NULL;
  seen = g_ptr_array_new ();
  for (int c = 0; c < ev->n_clips; c++)
    {
      const char *spk = ev->clip_speaker[c];
      if (spk != NULL && g_strv_contains ((const char * const *) trained, spk)
          && !g_ptr_array_find_with_equal_func (seen, spk, g_str_equal, NULL))
        g_ptr_array_add (seen, g_strdup (spk));
    }
  if (seen->len == 0)
    {
      g_ptr_array_free (seen, TRUE);
      return NULL;
    }
  g_ptr_array_add (seen, NULL);
  return (char **) g_ptr_array_free (seen, FALSE);
}

WkpEvaluation *
wkp_evaluate (const WkpDataset *ds, WkpSplit split,
              const char * const *paths, int n_paths,
              const WkpEvalParams *params,
              WkpProgressFunc progress, gpointer progress_data,
              GCancellable *cancellable, GError **error)
{
  g_autoptr(WkpEvaluation) ev = NULL;
  g_autoptr(GArray) indices = NULL;
  g_autofree EntryState *state = NULL;
  WkpEvalParams defaults;
  gint64 done = 0, total, start = g_get_monotonic_time ();
  int n_train = 0, energy_entry = -1;
  gboolean ok = FALSE;

  g_return_val_if_fail (ds != NULL && n_paths >= 0 && (n_paths == 0 || paths != NULL), NULL);
  if (params == NULL)
    {
      wkp_eval_params_init_default (&defaults);
      params = &defaults;
    }

  ev = g_new0 (WkpEvaluation, 1);
  ev->dataset = g_strdup (wkp_dataset_get_dir (ds));
  ev->split = split;
  ev->max_lag = CLAMP (params->max_lag, 0, 100);
  ev->energy_slope = ev->energy_intercept = NAN;

  if (params->speakers != NULL && params->speakers[0] != NULL)
    {
      ev->speakers = g_strdupv ((char **) params->speakers);
      for (int i = 0; ev->speakers[i] != NULL; i++)
        {
          char *one[] = { ev->speakers[i], NULL };
          g_autoptr(GArray) has = speaker_indices (ds, split, one, TRUE);
          if (has->len == 0)
            {
              g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                           "Dataset %s has no usable clip of speaker “%s” in the %s split", ev->dataset,
                           ev->speakers[i], split == WKP_SPLIT_NONE ? "all" : wkp_split_to_string (split));
              return NULL;
            }
        }
    }
  indices = speaker_indices (ds, split, ev->speakers, TRUE);
  if (indices->len == 0)
    {
      g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                   "Dataset %s has no usable clips in the %s split",
                   ev->dataset, split == WKP_SPLIT_NONE ? "all" : wkp_split_to_string (split));
      return NULL;
    }
  ev->n_clips = indices->len;
  ev->clip_index = g_new0 (int, ev->n_clips);
  ev->clip_name = g_new0 (char *, ev->n_clips);
  ev->clip_speaker = g_new0 (char *, ev->n_clips);
  ev->clip_fps = g_new0 (WkpRational, ev->n_clips);
  ev->clip_frames = g_new0 (gint64, ev->n_clips);
  ev->ref_aperture = g_new0 (double *, ev->n_clips);
  for (int c = 0; c < ev->n_clips; c++)
    {
      const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, g_array_index (indices, int, c));
      ev->clip_index[c] = clip->index;
      ev->clip_name[c] = g_strdup (clip->name);
      ev->clip_speaker[c] = g_strdup (clip->speaker);
      ev->clip_fps[c] = clip->fps;
      ev->clip_frames[c] = clip->n_frames;
    }

  /* Entries: open every input first, so that a bad path fails before any work. */
  ev->n_entries = n_paths + (params->baselines ? 2 : 0) + (params->oracles ? 2 : 0);
  ev->entries = g_new0 (WkpEvalEntry, ev->n_entries);
  state = g_new0 (EntryState, ev->n_entries);
  for (int p = 0; p < n_paths; p++)
    {
      WkpEvalEntry *entry = &ev->entries[p];
      entry->path = g_strdup (paths[p]);
      entry->label = unique_label (paths[p], paths, n_paths);
      if (g_file_test (paths[p], G_FILE_TEST_IS_DIR))
        {
          /* a folder of nothing that fits (a typo, the wrong split) is not an
           * empty result; one missing some clips is scored without them, and
           * says which (it was scored on fewer frames than the baselines,
           * best marks and all, without a word) */
          gboolean any = FALSE;
          g_autoptr(GPtrArray) missing = g_ptr_array_new ();
          entry->kind = WKP_EVAL_TRACKS;
          for (int c = 0; c < ev->n_clips; c++)
            {
              g_autofree char *file = find_clip_track (paths[p], wkp_dataset_get_clip (ds, ev->clip_index[c]));
              any |= file != NULL;
              if (file == NULL)
                g_ptr_array_add (missing, g_strdup (ev->clip_name[c]));
            }
          if (any && missing->len > 0)
            {
              g_ptr_array_add (missing, NULL);
              entry->missing = (char **) g_ptr_array_free (g_steal_pointer (&missing), FALSE);
            }
          else
            g_ptr_array_foreach (missing, (GFunc) (void (*) (void)) g_free, NULL);
          if (!any)
            {
              g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_NOT_FOUND,
                           "%s: no track file matches any clip of the split (name them by clip id or video name: "
                           "ID.npy, ID.csv or ID.json)", paths[p]);
              goto out;
            }
        }
      else if (!g_file_test (paths[p], G_FILE_TEST_EXISTS))
        {
          g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_NOT_FOUND,
                       "%s: no such model file or track folder", paths[p]);
          goto out;
        }
      else if (looks_like_model (paths[p]))
        {
          entry->kind = WKP_EVAL_MODEL;
          state[p].model = wkp_model_load (paths[p], error);
          if (state[p].model == NULL)
            goto out;
          entry->trained_on = seen_speakers (ev, state[p].model, "train");
          entry->validated_on = seen_speakers (ev, state[p].model, "val");
          /* an ensemble could validate one member on a speaker another was
           * trained on: "trained on" is the stronger statement */
          if (entry->trained_on != NULL && entry->validated_on != NULL)
            {
              int w = 0;
              for (int i = 0; entry->validated_on[i] != NULL; i++)
                if (g_strv_contains ((const char * const *) entry->trained_on, entry->validated_on[i]))
                  g_free (entry->validated_on[i]);
                else
                  entry->validated_on[w++] = entry->validated_on[i];
              entry->validated_on[w] = NULL;
              if (w == 0)
                g_clear_pointer (&entry->validated_on, g_strfreev);
            }
          if (state[p].model->features.sample_rate != DATASET_AUDIO_RATE)
            entry->problem = g_strdup_printf ("incompatible: the model reads %d Hz audio, the dataset has %d Hz",
                                              state[p].model->features.sample_rate, DATASET_AUDIO_RATE);
          /* A model always reads its own features computed from the clip's
           * audio, exactly as `predict`, `render` and the studio do, so that a
           * clip has one score whichever tool shows it. The dataset's cached
           * rows (what training read) end at the clip's last frame and were
           * edge-padded for the look-ahead there; prediction reads silence
           * past the audio: on a 3 s clip that moved r by up to 0.02. */
        }
      else
        {
          entry->kind = WKP_EVAL_TRACKS;
          g_autofree char *lower = g_ascii_strdown (paths[p], -1);
          if (!g_str_has_suffix (lower, ".npy") && !g_str_has_suffix (lower, ".csv") &&
              !g_str_has_suffix (lower, ".json"))
            {
              g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                           "%s: neither a model file (.wkpm) nor a landmark track (.npy, .csv, .json) nor a "
                           "folder of tracks", paths[p]);
              goto out;
            }
          if (ev->n_clips != 1)
            {
              g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                           "%s: a single track file can only be compared with a one-clip split (this one has %d "
                           "clips); give a folder with one track per clip, named by clip id or video name",
                           paths[p], ev->n_clips);
              goto out;
            }
          state[p].single_track = wkp_landmark_track_load (paths[p], ev->clip_fps[0], error);
          if (state[p].single_track == NULL)
            goto out;
          {
            /* a track whose sidecar names another video: most likely another
             * clip's, scored against this one because the lengths matched */
            const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, ev->clip_index[0]);
            g_autofree char *made = state[p].single_track->source != NULL
                                    ? g_path_get_basename (state[p].single_track->source) : NULL;
            g_autofree char *here = clip->video_path != NULL ? g_path_get_basename (clip->video_path) : NULL;
            g_autofree char *itself = g_path_get_basename (paths[p]);
            /* (a track without a sidecar names itself as its source) */
            if (made != NULL && here != NULL && g_strcmp0 (made, here) != 0 && g_strcmp0 (made, itself) != 0)
              entry->note = g_strdup_printf ("%s was made from %s (its sidecar says), not from this clip's %s: "
                                             "is it this clip's track?", paths[p], made, here);
          }
        }
    }
  if (params->baselines)
    {
      WkpEvalEntry *mean = &ev->entries[n_paths], *energy = &ev->entries[n_paths + 1];
      mean->kind = WKP_EVAL_MEAN_FACE;
      mean->label = g_strdup ("mean face (baseline)");
      energy->kind = WKP_EVAL_ENERGY;
      energy->label = g_strdup ("audio energy (baseline)");
      energy_entry = n_paths + 1;
      if (wkp_dataset_get_mean_face (ds) == NULL)
        mean->problem = g_strdup ("the dataset has no mean face");
    }
  if (params->oracles)
    {
      int first = n_paths + (params->baselines ? 2 : 0);
      WkpEvalEntry *motion = &ev->entries[first], *level = &ev->entries[first + 1];
      motion->kind = WKP_EVAL_ORACLE_MOTION;
      motion->label = g_strdup ("oracle: reference motion, mean level");
      level->kind = WKP_EVAL_ORACLE_LEVEL;
      level->label = g_strdup ("oracle: reference level, no motion");
      if (wkp_dataset_get_mean_face (ds) == NULL)
        motion->problem = g_strdup ("the dataset has no mean face");
    }
  for (int e = 0; e < ev->n_entries; e++)
    {
      ev->entries[e].clips = g_new0 (WkpMetrics, ev->n_clips);
      state[e].pooled = wkp_metrics_accum_new (ev->max_lag);
      state[e].clip = wkp_metrics_accum_new (ev->max_lag);
      if (ev->entries[e].problem == NULL)
        ev->entries[e].aperture = g_new0 (double *, ev->n_clips);
    }

  if (energy_entry >= 0)
    {
      g_autoptr(GArray) train = energy_fit_indices (ds, ev);
      n_train = train->len;
    }
  total = ev->n_clips + n_train;
  if (energy_entry >= 0
      && !fit_energy (ds, ev, progress, progress_data, &done, total, cancellable,
                      &ev->entries[energy_entry].problem, error))
    goto out;
  if (energy_entry >= 0 && ev->entries[energy_entry].problem != NULL)
    g_clear_pointer (&ev->entries[energy_entry].aperture, g_free);

  for (int c = 0; c < ev->n_clips; c++)
    {
      int index = ev->clip_index[c];
      const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, index);
      gint64 n = ev->clip_frames[c];
      gsize nn = (gsize) MAX (n, 1);
      g_autofree float *ref = g_new (float, nn * NXY);
      g_autofree float *pred = g_new (float, nn * NXY);
      g_autoptr(WkpNpy) audio = NULL;
      g_autofree double *env = NULL;

      if (wkp_check_cancelled (cancellable, error))
        goto out;
      ev->ref_aperture[c] = g_new (double, nn);
      if (!load_reference (ds, index, n, ref, ev->ref_aperture[c], error))
        goto out;

      for (int e = 0; e < ev->n_entries; e++)
        {
          WkpEvalEntry *entry = &ev->entries[e];
          gint64 t0 = g_get_monotonic_time ();
          double *pred_ap;
          gboolean landmarks = TRUE;

          if (entry->problem != NULL)
            continue;
          pred_ap = entry->aperture[c] = g_new (double, nn);
          if ((entry->kind == WKP_EVAL_MODEL || entry->kind == WKP_EVAL_ENERGY) && audio == NULL)
            {
              audio = load_audio (ds, index, error);
              if (audio == NULL)
                goto out;
            }

          switch (entry->kind)
            {
            case WKP_EVAL_MODEL:
              {
                g_autofree float *p = wkp_model_predict_audio (state[e].model, audio->data, audio->n_elements,
                                                               clip->fps, n, params->n_threads, cancellable,
                                                               error);
                if (p == NULL)
                  {
                    g_prefix_error (error, "%s on clip %s: ", entry->label, clip->name);
                    goto out;
                  }
                memcpy (pred, p, sizeof (float) * NXY * n);
              }
              break;
            case WKP_EVAL_TRACKS:
              if (state[e].single_track != NULL)
                {
                  if (!track_to_clip (state[e].single_track, entry->path, clip, n, pred, error))
                    goto out;
                }
              else
                {
                  g_autofree char *file = find_clip_track (entry->path, clip);
                  g_autoptr(WkpLandmarkTrack) track = NULL;
                  if (file == NULL)
                    {
                      for (gsize i = 0; i < nn * NXY; i++)
                        pred[i] = NAN;
                      break;
                    }
                  track = wkp_landmark_track_load (file, clip->fps, error);
                  if (track == NULL)
                    goto out;
                  if (!track_to_clip (track, file, clip, n, pred, error))
                    goto out;
                }
              break;
            case WKP_EVAL_MEAN_FACE:
              for (gint64 t = 0; t < n; t++)
                memcpy (pred + t * NXY, wkp_dataset_get_mean_face (ds), sizeof (float) * NXY);
              break;
            case WKP_EVAL_ORACLE_MOTION:
            case WKP_EVAL_ORACLE_LEVEL:
              oracle_track (entry->kind, ref, n, wkp_dataset_get_mean_face (ds), pred);
              break;
            case WKP_EVAL_ENERGY:
              landmarks = FALSE;
              if (env == NULL)
                {
                  env = g_new (double, nn);
                  wkp_metrics_energy_envelope (audio->data, audio->n_elements, DATASET_AUDIO_RATE,
                                               clip->fps, n, env);
                }
              for (gint64 t = 0; t < n; t++)
                pred_ap[t] = ev->energy_slope * env[t] + ev->energy_intercept;
              break;
            }

          if (landmarks)
            wkp_metrics_normalize_track (pred, n, pred, pred_ap);
          wkp_metrics_accum_reset (state[e].clip);
          wkp_metrics_accum_add_clip (state[e].clip, ref, ev->ref_aperture[c], landmarks ? pred : NULL, pred_ap, n);
          wkp_metrics_accum_add_clip (state[e].pooled, ref, ev->ref_aperture[c], landmarks ? pred : NULL, pred_ap, n);
          wkp_metrics_accum_result (state[e].clip, &entry->clips[c]);
          entry->seconds += (g_get_monotonic_time () - t0) / 1e6;
        }
      done++;
      if (progress != NULL)
        progress (done, total, clip->name, progress_data);
    }

  for (int e = 0; e < ev->n_entries; e++)
    if (ev->entries[e].problem == NULL)
      wkp_metrics_accum_result (state[e].pooled, &ev->entries[e].pooled);
  bootstrap (ev, params->bootstrap, params->seed);
  ev->seconds = (g_get_monotonic_time () - start) / 1e6;
  ok = TRUE;

out:
  for (int e = 0; state != NULL && e < ev->n_entries; e++)
    {
      g_clear_pointer (&state[e].model, wkp_model_free);
      g_clear_pointer (&state[e].single_track, wkp_landmark_track_free);
      g_clear_pointer (&state[e].pooled, wkp_metrics_accum_free);
      g_clear_pointer (&state[e].clip, wkp_metrics_accum_free);
    }
  return ok ? g_steal_pointer (&ev) : NULL;
}

/* --- outputs ---------------------------------------------------------------- */

static void
add_number (JsonObject *o, const char *name, double v)
{
  if (isfinite (v))
    json_object_set_double_member (o, name, v);
  else
    json_object_set_null_member (o, name);
}

/* [lo, hi], null where undefined */
static JsonArray *
interval_to_json (const double ci[2])
{
  JsonArray *a = json_array_new ();
  for (int k = 0; k < 2; k++)
    if (isfinite (ci[k]))
      json_array_add_double_element (a, ci[k]);
    else
      json_array_add_null_element (a);
  return a;
}

JsonNode *
wkp_metrics_to_json (const WkpMetrics *m)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_int_member (o, "frames", m->n_frames);
  json_object_set_int_member (o, "compared", m->n_compared);
  json_object_set_int_member (o, "reference_missing", m->n_ref_missing);
  json_object_set_int_member (o, "prediction_missing", m->n_pred_missing);
  json_object_set_int_member (o, "velocity_pairs", m->n_velocity);
  add_number (o, "lmd_mouth", m->lmd_mouth);
  add_number (o, "lmd_face", m->lmd_face);
  add_number (o, "lvd_mouth", m->lvd_mouth);
  add_number (o, "lvd_face", m->lvd_face);
  add_number (o, "lve", m->lve);
  add_number (o, "aperture_r", m->aperture_r);
  add_number (o, "aperture_rmse", m->aperture_rmse);
  add_number (o, "aperture_motion", m->aperture_motion);
  add_number (o, "aperture_reference_mean", m->aperture_ref_mean);
  add_number (o, "aperture_prediction_mean", m->aperture_pred_mean);
  if (isfinite (m->best_lag_r))
    json_object_set_int_member (o, "best_lag", m->best_lag);
  else
    json_object_set_null_member (o, "best_lag");
  add_number (o, "best_lag_r", m->best_lag_r);
  json_node_take_object (node, o);
  return node;
}

static const char *
split_name (WkpSplit split)
{
  return split == WKP_SPLIT_NONE ? "all" : wkp_split_to_string (split);
}

JsonNode *
wkp_evaluation_to_json (const WkpEvaluation *ev)
{
  JsonObject *root = json_object_new ();
  JsonArray *clips = json_array_new (), *entries = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (root, "dataset", ev->dataset);
  json_object_set_string_member (root, "split", split_name (ev->split));
  if (ev->speakers != NULL)
    {
      JsonArray *a = json_array_new ();
      for (int i = 0; ev->speakers[i] != NULL; i++)
        json_array_add_string_element (a, ev->speakers[i]);
      json_object_set_array_member (root, "speakers", a);
    }
  json_object_set_int_member (root, "max_lag", ev->max_lag);
  json_object_set_string_member (root, "units",
                                 "LMD, LVD, LVE, aperture RMSE: inter-ocular distance (36-45) of the normalised "
                                 "reference; LVD per frame; best_lag in frames, > 0 = prediction late");
  for (int c = 0; c < ev->n_clips; c++)
    {
      JsonObject *o = json_object_new ();
      g_autofree char *fps = wkp_rational_to_string (ev->clip_fps[c]);
      json_object_set_string_member (o, "name", ev->clip_name[c]);
      json_object_set_string_member (o, "speaker", ev->clip_speaker[c] != NULL ? ev->clip_speaker[c] : "");
      json_object_set_string_member (o, "fps", fps);
      json_object_set_int_member (o, "frames", ev->clip_frames[c]);
      json_array_add_object_element (clips, o);
    }
  json_object_set_array_member (root, "clips", clips);
  for (int e = 0; e < ev->n_entries; e++)
    {
      const WkpEvalEntry *entry = &ev->entries[e];
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "label", entry->label);
      json_object_set_string_member (o, "kind", wkp_eval_kind_to_string (entry->kind));
      if (entry->path != NULL)
        json_object_set_string_member (o, "path", entry->path);
      if (entry->trained_on != NULL && entry->problem == NULL)
        json_object_set_array_member (o, "trained_on_evaluated_speakers", strv_to_json (entry->trained_on));
      if (entry->validated_on != NULL && entry->problem == NULL)
        json_object_set_array_member (o, "validated_on_evaluated_speakers", strv_to_json (entry->validated_on));
      if (entry->missing != NULL)
        json_object_set_array_member (o, "clips_without_track", strv_to_json (entry->missing));
      if (entry->note != NULL)
        json_object_set_string_member (o, "note", entry->note);
      if (entry->problem != NULL)
        json_object_set_string_member (o, "problem", entry->problem);
      else
        {
          JsonArray *per_clip = json_array_new ();
          json_object_set_member (o, "pooled", wkp_metrics_to_json (&entry->pooled));
          for (int c = 0; c < ev->n_clips; c++)
            {
              JsonNode *m = wkp_metrics_to_json (&entry->clips[c]);
              json_object_set_string_member (json_node_get_object (m), "clip", ev->clip_name[c]);
              json_array_add_element (per_clip, m);
            }
          json_object_set_array_member (o, "clips", per_clip);
          add_number (o, "seconds", entry->seconds);
          if (ev->n_bootstrap > 0)
            {
              JsonObject *bs = json_object_new ();
              json_object_set_int_member (bs, "resamples", ev->n_bootstrap);
              json_object_set_array_member (bs, "aperture_r_95", interval_to_json (entry->aperture_r_ci));
              json_object_set_array_member (bs, "lmd_mouth_95", interval_to_json (entry->lmd_mouth_ci));
              if (entry->kind == WKP_EVAL_MODEL || entry->kind == WKP_EVAL_TRACKS)
                {
                  add_number (bs, "r_above_energy_baseline", entry->r_above_energy);
                  add_number (bs, "lmd_mouth_below_mean_face", entry->lmd_below_mean_face);
                }
              json_object_set_object_member (o, "bootstrap_over_clips", bs);
            }
        }
      if (entry->kind == WKP_EVAL_ENERGY)
        {
          JsonObject *fit = json_object_new ();
          add_number (fit, "slope_per_db", ev->energy_slope);
          add_number (fit, "intercept", ev->energy_intercept);
          json_object_set_int_member (fit, "train_frames", ev->energy_fit_frames);
          json_object_set_int_member (fit, "excluded_train_clips", ev->energy_fit_excluded_clips);
          json_object_set_object_member (o, "fit", fit);
        }
      json_array_add_object_element (entries, o);
    }
  json_object_set_array_member (root, "models", entries);
  if (ev->n_comparisons > 0)
    {
      JsonArray *cmp = json_array_new ();
      for (int k = 0; k < ev->n_comparisons; k++)
        {
          const WkpEvalComparison *c = &ev->comparisons[k];
          JsonObject *o = json_object_new ();
          json_object_set_string_member (o, "a", ev->entries[c->a].label);
          json_object_set_string_member (o, "b", ev->entries[c->b].label);
          json_object_set_int_member (o, "resamples", ev->n_bootstrap);
          add_number (o, "aperture_r_b_minus_a", c->r_diff);
          json_object_set_array_member (o, "aperture_r_b_minus_a_95", interval_to_json (c->r_diff_ci));
          add_number (o, "b_r_higher_in", c->b_r_higher);
          add_number (o, "lmd_mouth_b_minus_a", c->lmd_diff);
          json_object_set_array_member (o, "lmd_mouth_b_minus_a_95", interval_to_json (c->lmd_diff_ci));
          add_number (o, "b_lmd_mouth_lower_in", c->b_lmd_lower);
          json_array_add_object_element (cmp, o);
        }
      json_object_set_array_member (root, "comparisons_over_clips", cmp);
    }
  add_number (root, "seconds", ev->seconds);
  json_node_take_object (node, root);
  return node;
}

static void
csv_field (GString *s, const char *text)
{
  if (text == NULL)
    text = "";
  if (strpbrk (text, ",\"\n\r") != NULL)
    {
      g_string_append_c (s, '"');
      for (const char *p = text; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (s, '"');
          g_string_append_c (s, *p);
        }
      g_string_append_c (s, '"');
    }
  else
    g_string_append (s, text);
}

static void
csv_number (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_c (s, ',');
  if (isfinite (v))
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

/* "train" when @entry was trained on @speaker (NULL: on any evaluated
 * speaker), "val" when it chose its best epoch on it, else "" */
static const char *
speaker_seen (const WkpEvalEntry *entry, const char *speaker)
{
  if (entry->trained_on != NULL
      && (speaker == NULL || g_strv_contains ((const char * const *) entry->trained_on, speaker)))
    return "train";
  if (entry->validated_on != NULL
      && (speaker == NULL || g_strv_contains ((const char * const *) entry->validated_on, speaker)))
    return "val";
  return "";
}

static void
csv_row (GString *s, const WkpEvalEntry *entry, const char *clip, const char *speaker, const WkpMetrics *m)
{
  csv_field (s, entry->label);
  g_string_append_c (s, ',');
  g_string_append (s, wkp_eval_kind_to_string (entry->kind));
  g_string_append_c (s, ',');
  csv_field (s, clip);
  g_string_append_c (s, ',');
  csv_field (s, speaker);
  if (m == NULL)
    {
      g_string_append (s, ",,,,,,,,,,,,,,");   /* the 14 metric fields, empty */
      g_string_append_c (s, ',');
      csv_field (s, entry->problem);
      g_string_append (s, ",\n");
      return;
    }
  g_string_append_printf (s, ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT,
                          m->n_frames, m->n_compared, m->n_ref_missing, m->n_pred_missing);
  csv_number (s, m->lmd_mouth);
  csv_number (s, m->lmd_face);
  csv_number (s, m->lvd_mouth);
  csv_number (s, m->lvd_face);
  csv_number (s, m->lve);
  csv_number (s, m->aperture_r);
  csv_number (s, m->aperture_rmse);
  csv_number (s, m->aperture_motion);
  g_string_append_c (s, ',');
  if (isfinite (m->best_lag_r))
    g_string_append_printf (s, "%d", m->best_lag);
  csv_number (s, m->best_lag_r);
  g_string_append (s, ",,");   /* no problem */
  g_string_append (s, speaker_seen (entry, g_strcmp0 (clip, "ALL") == 0 ? NULL : speaker));
  g_string_append_c (s, '\n');
}

GBytes *
wkp_evaluation_to_csv (const WkpEvaluation *ev)
{
  GString *s = g_string_new ("model,kind,clip,speaker,frames,compared,reference_missing,prediction_missing,"
                             "lmd_mouth,lmd_face,lvd_mouth,lvd_face,lve,aperture_r,aperture_rmse,"
                             "aperture_motion,best_lag,best_lag_r,problem,speaker_seen\n");
  for (int e = 0; e < ev->n_entries; e++)
    {
      const WkpEvalEntry *entry = &ev->entries[e];
      if (entry->problem != NULL)
        {
          csv_row (s, entry, "ALL", "", NULL);
          continue;
        }
      csv_row (s, entry, "ALL", "", &entry->pooled);
      for (int c = 0; c < ev->n_clips; c++)
        csv_row (s, entry, ev->clip_name[c], ev->clip_speaker[c], &entry->clips[c]);
    }
  return g_string_free_to_bytes (s);
}

static char *
safe_name (const char *name)
{
  g_autofree char *stem = NULL;
  GString *s = g_string_new (NULL);
  g_autofree char *copy = g_strdup (name);
  char *dot = strrchr (copy, '.'), *slash = strrchr (copy, '/');
  if (dot != NULL && (slash == NULL || dot > slash))
    *dot = '\0';
  /* keep the last two path components: "s1/bbaf2n" -> "s1_bbaf2n" */
  {
    g_auto(GStrv) parts = g_strsplit (copy, "/", -1);
    guint n = g_strv_length (parts);
    for (guint i = n >= 2 ? n - 2 : 0; i < n; i++)
      {
        if (s->len > 0)
          g_string_append_c (s, '_');
        for (const char *p = parts[i]; *p; p++)
          g_string_append_c (s, g_ascii_isalnum (*p) || *p == '-' || *p == '_' ? *p : '_');
      }
  }
  if (s->len > 60)
    g_string_erase (s, 0, s->len - 60);
  return g_string_free (s, FALSE);
}

/* The per-clip plots a run wrote into a folder are listed in this file
 * there, so that the next run removes only those it does not write again.
 * (Removing every "clip-NNN-*.png" the next run did not write took the
 * user's own copies and edits with them, read-only files too.) */
#define PLOT_LIST ".wav2kp-plots"

/* Removes the per-clip plots the previous run listed in DIR/.wav2kp-plots
 * that this run did not write, then lists this run's. Names only of that
 * list, regular files only, never a path outside DIR. */
static int
replace_plot_list (const char *dir, GHashTable *written, GError **error)
{
  g_autofree char *list_path = g_build_filename (dir, PLOT_LIST, NULL);
  g_autofree char *old = NULL;
  g_autoptr(GString) now = g_string_new ("# per-clip plots the last `wav2kp evaluate --plot` wrote here; the next "
                                         "run removes those it does not write again\n");
  GList *names = g_list_sort (g_hash_table_get_keys (written), (GCompareFunc) g_strcmp0);
  int removed = 0;

  if (g_file_get_contents (list_path, &old, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (old, "\n", -1);
      for (int i = 0; lines[i] != NULL; i++)
        {
          const char *name = lines[i];
          g_autofree char *path = NULL;
          if (*name == '\0' || *name == '#' || strchr (name, '/') != NULL || g_str_equal (name, ".")
              || g_str_equal (name, "..") || g_hash_table_contains (written, name))
            continue;
          path = g_build_filename (dir, name, NULL);
          if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK)
              && g_unlink (path) == 0)
            removed++;
        }
    }
  for (GList *l = names; l != NULL; l = l->next)
    g_string_append_printf (now, "%s\n", (const char *) l->data);
  g_list_free (names);
  {
    g_autoptr(GBytes) bytes = g_bytes_new (now->str, now->len);
    if (!wkp_write_file_atomic (list_path, bytes, error))
      return -1;
  }
  return removed;
}

gboolean
wkp_evaluation_plot (const WkpEvaluation *ev, const char *dir, int *n_removed, GError **error)
{
  g_autoptr(GHashTable) written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  static const WkpPlotMetric metrics[] = {
    { "LMD mouth", "× inter-ocular", FALSE },
    { "LMD face", "× inter-ocular", FALSE },
    { "lip-vertex error", "× inter-ocular", FALSE },
    { "LVD mouth", "× inter-ocular / frame", FALSE },
    { "aperture r", "Pearson, lag 0", TRUE },
    { "aperture RMSE", "× inter-ocular", FALSE },
  };
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) used = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree double *values = NULL, *lower = NULL, *upper = NULL;
  g_autofree char *summary = NULL, *title = NULL, *dsname = NULL, *note = NULL;
  g_autofree int *colours = NULL;
  g_autoptr(GString) caveats = g_string_new (NULL);
  int n_metrics = G_N_ELEMENTS (metrics), n_predictors = 0;
  gint64 compared = 0;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_IO, "Cannot create plot folder %s: %s", dir,
                   g_strerror (saved));
      return FALSE;
    }
  /* the oracles are bounds, not contenders: they stay out of the plots ("best in panel") */
  for (int e = 0; e < ev->n_entries; e++)
    if (ev->entries[e].problem == NULL && !wkp_eval_kind_is_oracle (ev->entries[e].kind))
      g_array_append_val (used, e);

  /* models take the palette from its start; each baseline keeps one colour
   * (grey for the energy envelope, brown for the mean face) */
  colours = g_new (int, MAX (used->len, 1));
  for (guint u = 0; u < used->len; u++)
    {
      WkpEvalKind kind = ev->entries[g_array_index (used, int, u)].kind;
      colours[u] = kind == WKP_EVAL_ENERGY ? 7 : kind == WKP_EVAL_MEAN_FACE ? 5 : n_predictors++ % 5;
    }

  values = g_new (double, MAX (used->len, 1) * n_metrics);
  lower = g_new (double, MAX (used->len, 1) * n_metrics);
  upper = g_new (double, MAX (used->len, 1) * n_metrics);
  for (guint u = 0; u < used->len; u++)
    {
      const WkpEvalEntry *entry = &ev->entries[g_array_index (used, int, u)];
      const WkpMetrics *m = &entry->pooled;
      double row[] = { m->lmd_mouth, m->lmd_face, m->lve, m->lvd_mouth, m->aperture_r, m->aperture_rmse };
      double lo[] = { entry->lmd_mouth_ci[0], NAN, NAN, NAN, entry->aperture_r_ci[0], NAN };
      double hi[] = { entry->lmd_mouth_ci[1], NAN, NAN, NAN, entry->aperture_r_ci[1], NAN };
      memcpy (values + u * n_metrics, row, sizeof row);
      memcpy (lower + u * n_metrics, lo, sizeof lo);
      memcpy (upper + u * n_metrics, hi, sizeof hi);
      /* the table's "Not held out" / "Validated on" notes, as marks */
      if (entry->trained_on != NULL)
        {
          guint n = g_strv_length (entry->trained_on);
          g_autoptr(GString) who = g_string_new (NULL);
          for (guint k = 0; k < MIN (n, 3); k++)
            g_string_append_printf (who, "%s%s", k > 0 ? ", " : "", entry->trained_on[k]);
          if (n > 3)
            g_string_append (who, ", …");
          g_ptr_array_add (labels, g_strdup_printf ("%s †", entry->label));
          g_string_append_printf (caveats, "\n† %s was trained on %u of these speakers (%s): not a held-out score.",
                                  entry->label, n, who->str);
        }
      else if (entry->validated_on != NULL)
        {
          g_ptr_array_add (labels, g_strdup_printf ("%s ‡", entry->label));
          g_string_append_printf (caveats, "\n‡ %s chose its best epoch on %u of these speakers: optimistic.",
                                  entry->label, g_strv_length (entry->validated_on));
        }
      else
        g_ptr_array_add (labels, g_strdup (entry->label));
      compared = MAX (compared, m->n_compared);
    }
  dsname = g_path_get_basename (ev->dataset);
  title = g_strdup_printf ("%s: %s split, %d clip%s, %" G_GINT64_FORMAT " frames compared", dsname,
                           split_name (ev->split), ev->n_clips, ev->n_clips == 1 ? "" : "s", compared);
  summary = g_build_filename (dir, "summary", NULL);
  if (ev->n_bootstrap > 0)
    note = g_strdup_printf ("Whiskers: 95%% interval over %d bootstrap resamples of the %d clips. "
                            "* best in panel.%s", ev->n_bootstrap, ev->n_clips, caveats->str);
  else
    note = g_strdup_printf ("* best in panel.%s", caveats->str);
  if (!wkp_plot_bars (summary, title, note, metrics, n_metrics,
                      (const char * const *) labels->pdata, used->len, values,
                      ev->n_bootstrap > 0 ? lower : NULL, ev->n_bootstrap > 0 ? upper : NULL, colours, error))
    return FALSE;

  for (int c = 0; c < ev->n_clips; c++)
    {
      g_autoptr(GPtrArray) series_labels = g_ptr_array_new_with_free_func (g_free);
      g_autofree const double **series = g_new0 (const double *, MAX (used->len, 1));
      g_autofree char *safe = safe_name (ev->clip_name[c]);
      g_autofree char *file = g_strdup_printf ("clip-%03d-%s", c + 1, safe);
      g_autofree char *base = g_build_filename (dir, file, NULL);
      g_autofree char *clip_title = NULL;

      for (guint u = 0; u < used->len; u++)
        {
          const WkpEvalEntry *entry = &ev->entries[g_array_index (used, int, u)];
          const WkpMetrics *m = &entry->clips[c];
          char r[64];
          if (isfinite (m->aperture_r))
            g_snprintf (r, sizeof r, "r = %.2f", m->aperture_r);
          else if (entry->kind == WKP_EVAL_MEAN_FACE || entry->kind == WKP_EVAL_ORACLE_LEVEL)
            g_strlcpy (r, "constant", sizeof r);
          else
            g_strlcpy (r, "r undefined", sizeof r);
          /* a model that trained (or early-stopped) on this clip's speaker says so */
          if (entry->trained_on != NULL && ev->clip_speaker[c] != NULL
              && g_strv_contains ((const char * const *) entry->trained_on, ev->clip_speaker[c]))
            g_strlcat (r, ", trained on this speaker", sizeof r);
          else if (entry->validated_on != NULL && ev->clip_speaker[c] != NULL
                   && g_strv_contains ((const char * const *) entry->validated_on, ev->clip_speaker[c]))
            g_strlcat (r, ", validated on this speaker", sizeof r);
          g_ptr_array_add (series_labels, g_strdup_printf ("%s (%s)", entry->label, r));
          series[u] = entry->aperture[c];
        }
      {
        g_auto(GStrv) parts = g_strsplit (ev->clip_name[c], "/", -1);
        guint np = g_strv_length (parts);
        g_autofree char *shown = np >= 2 ? g_strjoin ("/", parts[np - 2], parts[np - 1], NULL)
                                         : g_strdup (ev->clip_name[c]);
        clip_title = g_strdup_printf ("%s   ·   speaker %s   ·   %s split   ·   %.1f s", shown,
                                      ev->clip_speaker[c] != NULL ? ev->clip_speaker[c] : "?", split_name (ev->split),
                                      ev->clip_frames[c] / wkp_rational_to_double (ev->clip_fps[c]));
      }
      if (!wkp_plot_aperture (base, clip_title, ev->clip_fps[c], ev->clip_frames[c], ev->ref_aperture[c],
                              (const char * const *) series_labels->pdata, series, used->len, colours, error))
        return FALSE;
      g_hash_table_add (written, g_strconcat (file, ".svg", NULL));
      g_hash_table_add (written, g_strconcat (file, ".png", NULL));
    }
  {
    int removed = replace_plot_list (dir, written, error);
    if (removed < 0)
      return FALSE;
    if (n_removed != NULL)
      *n_removed = removed;
  }
  return TRUE;
}

/* ---- timing opinions ---------------------------------------------------------------------------- */

/* Pearson (ref[t], pred[t + k]) over the frames where both exist. */
static double
lagged_r (const double *ref, const double *pred, gint64 n, int k)
{
  if (ABS (k) >= n)
    return NAN;
  return k >= 0 ? wkp_metrics_pearson (ref, pred + k, n - k) : wkp_metrics_pearson (ref - k, pred, n + k);
}

void
wkp_timing_opinion (const double *ref, const double *pred, gint64 n, int max_lag, int offset, WkpTimingOpinion *out)
{
  g_return_if_fail (ref != NULL && pred != NULL && out != NULL && max_lag >= 0);
  out->known = FALSE;
  out->lag = 0;
  out->r0 = lagged_r (ref, pred, n, 0);
  out->r_lag = NAN;
  out->r_offset = lagged_r (ref, pred, n, offset);
  for (int a = 0; a <= max_lag; a++)
    for (int sgn = a == 0 ? 1 : -1; sgn <= 1; sgn += 2)
      {
        double r = lagged_r (ref, pred, n, sgn * a);
        if (isfinite (r) && (!isfinite (out->r_lag) || r > out->r_lag))
          {
            out->r_lag = r;
            out->lag = sgn * a;
          }
      }
  out->known = isfinite (out->r_lag);
}

int
wkp_timing_max_lag (const WkpDataset *ds)
{
  int max_lag = 10;
  for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
    max_lag = MAX (max_lag, ABS (wkp_dataset_get_clip (ds, i)->offset_frames));
  return MIN (max_lag, 31);
}

gboolean
wkp_timing_disputes_lag (const WkpTimingOpinion *o, int offset)
{
  return o->known && ABS (o->lag - offset) >= 3 && isfinite (o->r_offset) && o->r_lag - o->r_offset >= 0.1;
}

gboolean
wkp_timing_disputes (const WkpDatasetClip *c, const WkpTimingOpinion *o)
{
  return (c->flags & WKP_CLIP_FLAG_OFFSET) && wkp_timing_disputes_lag (o, c->offset_frames - c->offset_applied);
}

gboolean
wkp_timing_agrees (const WkpDatasetClip *c, const WkpTimingOpinion *o)
{
  return (c->flags & WKP_CLIP_FLAG_OFFSET) && o->known && ABS (o->lag - (c->offset_frames - c->offset_applied)) <= 1;
}
