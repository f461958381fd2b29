/* wkp-train.c: data preparation, minibatch sampling, Adam, validation,
 * checkpoints and the model file of a training run (see wkp-train.h). */
#include "wkp-train.h"

#include <cblas.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wkp-face.h"
#include "wkp-io.h"
#include "wkp-metrics.h"
#include "wkp-train-log.h"
#include "wkp-npy.h"
#include "wkp-train-net.h"

#define CKPT_MAGIC "WKPTCKPT"
#define CKPT_VERSION 1

/* ---- params ---------------------------------------------------------------- */

void
wkp_train_params_init_default (WkpTrainParams *p)
{
  g_return_if_fail (p != NULL);
  memset (p, 0, sizeof *p);
  p->mouth_only = TRUE;
  p->n_components = 10;
  p->pca_min_explained = 0.95;
  p->whiten = TRUE;
  p->identity_removal = TRUE;
  p->per_clip_norm = TRUE;
  p->context = 2;
  p->delay = 2;
  p->hidden_size = 64;
  p->num_layers = 1;
  p->bidirectional = FALSE;
  p->batch_size = 32;
  p->window = 64;
  p->warmup = 8;
  p->max_epochs = 40;
  p->steps_per_epoch = 20;
  p->lr = 1e-3;
  p->lr_min = 1e-4;
  p->lr_warmup_steps = 100;
  p->schedule = WKP_LR_COSINE;
  p->beta1 = 0.9;
  p->beta2 = 0.999;
  p->eps = 1e-8;
  p->weight_decay = 1e-4;
  p->clip_norm = 1.0;
  p->ema_decay = 0.0;
  p->velocity_weight = 0.5;
  p->variance_weighted = TRUE;
  p->speaker_balance = 0.5;
  p->aug_noise = 0.1;
  p->aug_gain = 0.3;
  p->aug_shift = 1;
  p->aug_dropout = 0.2;
  p->early_stop = WKP_EARLY_STOP_APERTURE;
  p->patience = 8;
  p->seed = 1;
  p->n_threads = 1;
  p->stop_after = 0;
}

JsonNode *
wkp_train_params_to_json (const WkpTrainParams *p)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
#define PI_(name) json_builder_set_member_name (b, #name); json_builder_add_int_value (b, p->name)
#define PD_(name) json_builder_set_member_name (b, #name); json_builder_add_double_value (b, p->name)
#define PB_(name) json_builder_set_member_name (b, #name); json_builder_add_boolean_value (b, p->name)
  PB_ (mouth_only); PI_ (n_components); PD_ (pca_min_explained); PB_ (whiten); PB_ (identity_removal);
  PB_ (per_clip_norm); PI_ (context); PI_ (delay);
  PI_ (hidden_size); PI_ (num_layers); PB_ (bidirectional);
  PI_ (batch_size); PI_ (window); PI_ (warmup); PI_ (max_epochs); PI_ (steps_per_epoch);
  PD_ (lr); PD_ (lr_min); PI_ (lr_warmup_steps);
  json_builder_set_member_name (b, "schedule");
  json_builder_add_string_value (b, p->schedule == WKP_LR_COSINE ? "cosine" : "constant");
  PD_ (beta1); PD_ (beta2); PD_ (eps); PD_ (weight_decay); PD_ (clip_norm); PD_ (velocity_weight); PB_ (variance_weighted);
  PD_ (speaker_balance); PD_ (aug_noise); PD_ (aug_gain); PI_ (aug_shift);
  if (p->aug_dropout > 0)   /* only when used, so older configs keep their checkpoint identity */
    {
      PD_ (aug_dropout);
    }
  if (p->aug_warp > 0)
    {
      PD_ (aug_warp);
    }
  if (p->identity_rest > 0)
    {
      PD_ (identity_rest);
    }
  if (p->align_train)
    {
      PB_ (align_train);
    }
  if (p->ema_decay > 0)
    {
      PD_ (ema_decay);
    }
  if (p->merge_val)
    {
      PB_ (merge_val);
    }
  if (p->val_speakers && p->val_speakers[0])
    {
      json_builder_set_member_name (b, "val_speakers");
      json_builder_begin_array (b);
      for (int i = 0; p->val_speakers[i]; i++)
        json_builder_add_string_value (b, p->val_speakers[i]);
      json_builder_end_array (b);
    }
  json_builder_set_member_name (b, "early_stop");
  json_builder_add_string_value (b, p->early_stop == WKP_EARLY_STOP_LOSS ? "loss" : "aperture");
  PI_ (patience);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) p->seed);
  PI_ (n_threads);
#undef PI_
#undef PD_
#undef PB_
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- data ------------------------------------------------------------------ */

static void
train_clip_free (gpointer p)
{
  WkpTrainClip *c = p;
  g_free (c->name);
  g_free (c->speaker);
  g_free (c->features);
  g_free (c->targets);
  g_free (c);
}

WkpTrainData *
wkp_train_data_new (const WkpFeatureConfig *config, WkpRational fps)
{
  WkpTrainData *d = g_new0 (WkpTrainData, 1);
  d->features = *config;
  d->fps = fps;
  d->dim = wkp_feature_config_dim (config);
  d->clips = g_ptr_array_new_with_free_func (train_clip_free);
  return d;
}

void
wkp_train_data_add_clip (WkpTrainData *data, const char *name, const char *speaker, WkpSplit split,
                         gint64 n_frames, float *features, float *targets)
{
  WkpTrainClip *c = g_new0 (WkpTrainClip, 1);
  c->name = g_strdup (name);
  c->speaker = g_strdup (speaker);
  c->split = split;
  c->n_frames = n_frames;
  c->features = features;
  c->targets = targets;
  g_ptr_array_add (data->clips, c);
}

void
wkp_train_data_free (WkpTrainData *data)
{
  if (data == NULL)
    return;
  g_ptr_array_unref (data->clips);
  g_free (data->source);
  g_free (data);
}

WkpTrainData *
wkp_train_data_from_dataset (const WkpDataset *ds, GError **error)
{
  g_autoptr(WkpTrainData) data = wkp_train_data_new (wkp_dataset_get_feature_config (ds),
                                                     wkp_dataset_get_model_fps (ds));
  const int D = wkp_dataset_get_feature_dim (ds);
  data->source = g_strdup (wkp_dataset_get_dir (ds));
  if (D != data->dim)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID, "%s: feature dimension %d does not match its config (%d)",
                   wkp_dataset_get_dir (ds), D, data->dim);
      return NULL;
    }
  for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
    {
      const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, i);
      if (clip->status != WKP_CLIP_OK || clip->split == WKP_SPLIT_NONE)
        continue;
      g_autoptr(WkpNpy) feat = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_FEATURES, error);
      if (feat == NULL)
        return NULL;
      gint64 n_t = 0;
      g_autofree float *targets = wkp_dataset_clip_load_targets (ds, i, &n_t, error);
      if (targets == NULL)
        return NULL;
      gint64 n = MIN (feat->shape[0], n_t);
      if (feat->ndim != 2 || feat->shape[1] != D || n <= 0)
        continue;
      float *f = g_memdup2 (feat->data, sizeof (float) * n * D);
      float *t = g_realloc (g_steal_pointer (&targets), sizeof (float) * n * WKP_N_LANDMARKS * 2);
      wkp_train_data_add_clip (data, clip->name, clip->speaker, clip->split, n, f, t);
      if ((clip->flags & WKP_CLIP_FLAG_OFFSET) && clip->offset_applied == 0 && clip->fps.num > 0 && clip->fps.den > 0)
        {
          WkpRational mf = data->fps;
          double steps = clip->offset_frames * ((double) mf.num / mf.den) / ((double) clip->fps.num / clip->fps.den);
          WkpTrainClip *added = g_ptr_array_index (data->clips, data->clips->len - 1);
          added->offset_steps = (int) lround (steps);
        }
    }
  if (data->clips->len == 0)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID, "%s: no usable clips", wkp_dataset_get_dir (ds));
      return NULL;
    }
  return g_steal_pointer (&data);
}

/* ---- small helpers ------------------------------------------------------------ */

/* xoshiro256** seeded through splitmix64: a serialisable, portable RNG. */
typedef struct {
  guint64 s[4];
} Rng;

static guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void
rng_seed (Rng *r, guint64 seed)
{
  guint64 x = seed;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64 (&x);
}

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static guint64
rng_next (Rng *r)
{
  guint64 *s = r->s;
  guint64 result = rotl (s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

static double
rng_uniform (Rng *r)
{
  return (rng_next (r) >> 11) * (1.0 / 9007199254740992.0);
}

static gint64
rng_int (Rng *r, gint64 n)   /* [0, n) */
{
  return n <= 1 ? 0 : (gint64) (rng_uniform (r) * (double) n) % n;
}

/* Approximately standard normal (Irwin-Hall of 4): cheap, deterministic. */
static float
rng_normal_fast (Rng *r)
{
  guint64 a = rng_next (r), b = rng_next (r);
  double s = (double) (a & 0xffffffffu) + (double) (a >> 32) + (double) (b & 0xffffffffu) + (double) (b >> 32);
  return (float) ((s / 4294967296.0 - 2.0) * 1.7320508075688772);
}

static double
rng_normal (Rng *r)
{
  double u1 = rng_uniform (r), u2 = rng_uniform (r);
  return sqrt (-2.0 * log (MAX (u1, 1e-300))) * cos (2.0 * G_PI * u2);
}

void
wkp_train_normalize_features (const float *features, gint64 n, int dim, gboolean per_clip, const float *mean,
                              const float *std, float *out)
{
  g_autofree double *cm = g_new0 (double, dim);
  g_autofree double *cs = g_new0 (double, dim);
  if (per_clip && n > 0)
    {
      for (gint64 t = 0; t < n; t++)
        for (int j = 0; j < dim; j++)
          cm[j] += features[t * dim + j];
      for (int j = 0; j < dim; j++)
        cm[j] /= n;
      for (gint64 t = 0; t < n; t++)
        for (int j = 0; j < dim; j++)
          {
            double e = features[t * dim + j] - cm[j];
            cs[j] += e * e;
          }
      for (int j = 0; j < dim; j++)
        cs[j] = MAX (sqrt (cs[j] / n), (double) WKP_MODEL_STD_FLOOR);
    }
  for (gint64 t = 0; t < n; t++)
    for (int j = 0; j < dim; j++)
      {
        double v = features[t * dim + j];
        if (per_clip)
          v = (v - cm[j]) / cs[j];
        if (mean)
          v = (v - mean[j]) / std[j];
        out[t * dim + j] = (float) v;
      }
}

void
wkp_train_stack_row (const float *norm, gint64 n, int dim, int context, gint64 s, float *row)
{
  for (int k = -context; k <= context; k++)
    {
      gint64 f = CLAMP (s + k, 0, n - 1);
      memcpy (row + (gsize) (k + context) * dim, norm + f * dim, sizeof (float) * dim);
    }
}

static gboolean
row_finite (const float *v, int n)
{
  for (int i = 0; i < n; i++)
    if (!isfinite (v[i]))
      return FALSE;
  return TRUE;
}

/* ---- the prepared run ----------------------------------------------------------- */

#define N_WARPS 4   /* warped copies per train clip: 1 - w, 1 - w/2, 1 + w/2, 1 + w */

typedef struct {
  const WkpTrainClip *clip;
  int      speaker;        /* index into Prep.speakers */
  float   *norm;           /* [n, D] normalised features (train clips: aligned by `align` frames) */
  int      align;          /* align_train: the clip's offset_steps, else 0 */
  float   *warped[N_WARPS];/* train clips with aug_warp: [n, D] normalised features of warped copies */
  float   *coef;           /* [n, K] target coefficients, NaN = missing */
  double  *aperture;       /* [n] reference aperture (NaN = missing) */
} PClip;

typedef struct {
  WkpTrainParams p;
  const WkpTrainData *data;
  int D, in_size, P, K;     /* feature dim, net input, points, components */
  int point_index[WKP_N_LANDMARKS];
  GArray *train, *val, *test; /* PClip */
  GPtrArray *speakers;      /* char* */
  double *spk_cum;          /* cumulative sampling probability over train speakers */
  int     n_train_speakers;
  int    *train_spk_ids;    /* [n_train_speakers] speaker index */
  GArray **spk_clips;       /* per train speaker: indices into train (int) */
  double **spk_clip_cum;
  float  *fmean, *fstd;     /* [D] */
  float   mean_face[WKP_N_LANDMARKS * 2];
  WkpPca *pca;
  float  *loss_w;           /* [K] */
  WkpNetShape shape;
  gint64  train_frames;
  int     steps_per_epoch;
  int     static_cols[1024];/* columns offset by gain augmentation */
  int     n_static_cols;
} Prep;

static void
pclip_clear (gpointer p)
{
  PClip *c = p;
  g_free (c->norm);
  for (int k = 0; k < N_WARPS; k++)
    g_free (c->warped[k]);
  g_free (c->coef);
  g_free (c->aperture);
}

static void
prep_free (Prep *pr)
{
  if (pr == NULL)
    return;
  if (pr->train)
    g_array_unref (pr->train);
  if (pr->val)
    g_array_unref (pr->val);
  if (pr->test)
    g_array_unref (pr->test);
  if (pr->spk_clips)
    for (int i = 0; i < pr->n_train_speakers; i++)
      {
        g_array_unref (pr->spk_clips[i]);
        g_free (pr->spk_clip_cum[i]);
      }
  g_free (pr->spk_clips);
  g_free (pr->spk_clip_cum);
  g_free (pr->spk_cum);
  g_free (pr->train_spk_ids);
  if (pr->speakers)
    g_ptr_array_unref (pr->speakers);
  g_free (pr->fmean);
  g_free (pr->fstd);
  wkp_pca_free (pr->pca);
  g_free (pr->loss_w);
  g_free (pr);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Prep, prep_free)

static int
speaker_index (GPtrArray *speakers, const char *name)
{
  for (guint i = 0; i < speakers->len; i++)
    if (g_strcmp0 (g_ptr_array_index (speakers, i), name) == 0)
      return (int) i;
  g_ptr_array_add (speakers, g_strdup (name));
  return (int) speakers->len - 1;
}

/* The aperture of a 68-point face built from the mean face with the subset replaced. */
static double
aperture_of_subset (const Prep *pr, const float *subset)
{
  float face[WKP_N_LANDMARKS * 2];
  memcpy (face, pr->mean_face, sizeof face);
  for (int i = 0; i < pr->P; i++)
    {
      face[2 * pr->point_index[i]] = subset[2 * i];
      face[2 * pr->point_index[i] + 1] = subset[2 * i + 1];
    }
  return wkp_face_inner_aperture (face);
}

/* Feature rows [n, D] in place so that row t holds what was row t + @offset
 * (edge rows repeated): the audio of a clip whose sound lags its landmarks by
 * @offset frames, brought into sync with them. */
static void
align_rows (float *rows, gint64 n, int D, int offset)
{
  if (offset == 0 || n <= 0)
    return;
  g_autofree float *src = g_memdup2 (rows, sizeof (float) * n * D);
  for (gint64 t = 0; t < n; t++)
    memcpy (rows + t * D, src + CLAMP (t + offset, 0, n - 1) * D, sizeof (float) * D);
}

/* Per speaker, the @quantile (0..1) of the inner-lip apertures of its faces in
 * all three splits (NaN for a speaker without faces); NULL when quantile <= 0
 * (identity by the speaker's mean shape). */
static double *
speaker_rest_apertures (GArray *const sets[3], int NS, double quantile)
{
  if (quantile <= 0)
    return NULL;
  g_autofree GArray **ap = g_new0 (GArray *, NS);
  double *rest = g_new (double, NS);
  for (int s = 0; s < NS; s++)
    ap[s] = g_array_new (FALSE, FALSE, sizeof (double));
  for (int si = 0; si < 3; si++)
    for (guint i = 0; i < sets[si]->len; i++)
      {
        const PClip *c = &g_array_index (sets[si], PClip, i);
        for (gint64 t = 0; t < c->clip->n_frames; t++)
          {
            const float *f = c->clip->targets + t * WKP_N_LANDMARKS * 2;
            double a = row_finite (f, WKP_N_LANDMARKS * 2) ? wkp_face_inner_aperture (f) : NAN;
            if (isfinite (a))
              g_array_append_val (ap[c->speaker], a);
          }
      }
  for (int s = 0; s < NS; s++)
    {
      GArray *a = ap[s];
      rest[s] = NAN;
      if (a->len > 0)
        {
          wkp_metrics_sort ((double *) a->data, a->len);
          rest[s] = g_array_index (a, double, (guint) MIN (floor (quantile * (a->len - 1) + 0.5), a->len - 1.0));
        }
      g_array_unref (a);
    }
  return rest;
}

static Prep *
prep_new (const WkpTrainData *data, const WkpTrainParams *params, GError **error)
{
  g_autoptr(Prep) pr = g_new0 (Prep, 1);
  const WkpTrainParams *p = params;
  pr->p = *params;
  pr->data = data;
  pr->D = data->dim;
  /* (a context outside 0..100 is refused just below; not multiplied first) */
  pr->in_size = p->context >= 0 && p->context <= 100 ? pr->D * (2 * p->context + 1) : 0;
  pr->P = p->mouth_only ? WKP_MOUTH_COUNT : WKP_N_LANDMARKS;
  for (int i = 0; i < pr->P; i++)
    pr->point_index[i] = p->mouth_only ? WKP_MOUTH_FIRST + i : i;
  const int P2 = 2 * pr->P, D = pr->D;

  {
    /* the first bad parameter, by its command-line name */
    /* (upper bounds keep sizes allocatable: far beyond any useful setting) */
    const char *bad = p->context < 0 || p->context > 100 ? "--context must be 0..100"
                    : p->delay < 0 || p->delay > 1000 ? "--delay must be 0..1000"
                    : p->hidden_size < 1 || p->hidden_size > 4096 ? "--hidden must be 1..4096"
                    : p->num_layers < 1 || p->num_layers > WKP_LSTM_MAX_LAYERS ? "--layers must be 1..8"
                    : p->batch_size < 1 || p->batch_size > 4096 ? "--batch must be 1..4096"
                    : p->window < 2 || p->window > 100000 ? "--window must be 2..100000"
                    : p->max_epochs < 1 ? "--epochs must be >= 1"
                    : p->steps_per_epoch < 0 ? "--steps-per-epoch must be >= 0"
                    : p->patience < 0 ? "--patience must be >= 0"
                    : p->stop_after < 0 ? "--stop-after must be >= 0"
                    : p->n_threads < 0 || p->n_threads > 256 ? "--threads must be 0..256"
                    : p->n_components < 0 || p->n_components > 2 * WKP_N_LANDMARKS ? "--components must be 0..136"
                    /* (more than the points' coordinates was cut to them without a word) */
                    : p->mouth_only && p->n_components > 2 * (WKP_N_LANDMARKS - WKP_MOUTH_FIRST)
                      ? "--components must be 0..40 for the mouth's 20 points (0..136 with --full-face)"
                    : !(p->pca_min_explained > 0 && p->pca_min_explained <= 1) ? "--explained must be in (0, 1]"
                    : p->warmup < 0 || p->warmup >= p->window ? "--warmup must be >= 0 and less than --window"
                    : p->lr_warmup_steps < 0 ? "--lr-warmup must be >= 0"
                    /* Adam's steps are about lr in size: above 1 the weights only blow up
                     * (2^31 trained to a loss of 1e19 and exit 0) */
                    : !(p->lr > 0 && p->lr <= 1) ? "--lr must be in (0, 1]"
                    : !(p->lr_min >= 0 && p->lr_min <= p->lr) ? "--lr-min must be in [0, --lr]"
                    /* decoupled decay multiplies the weights by 1 - lr * decay each step */
                    : !(p->weight_decay >= 0 && p->weight_decay <= 10 && p->lr * p->weight_decay < 1)
                      ? "--weight-decay must be in [0, 10] and below 1 / --lr"
                    : !(p->clip_norm >= 0 && isfinite (p->clip_norm)) ? "--clip must be >= 0"
                    : !(p->velocity_weight >= 0 && isfinite (p->velocity_weight)) ? "--velocity must be >= 0"
                    : !(p->speaker_balance >= 0 && p->speaker_balance <= 1) ? "--speaker-balance must be in [0, 1]"
                    : !(p->aug_noise >= 0 && isfinite (p->aug_noise)) ? "--noise must be >= 0"
                    : !(p->aug_gain >= 0 && isfinite (p->aug_gain)) ? "--gain must be >= 0"
                    : p->aug_shift < 0 || p->aug_shift > 100 ? "--shift must be 0..100"
                    : !(p->aug_dropout >= 0 && p->aug_dropout < 1) ? "--dropout must be in [0, 1)"
                    : !(p->aug_warp >= 0 && p->aug_warp <= 0.3) ? "--warp must be in [0, 0.3]"
                    : !(p->identity_rest >= 0 && p->identity_rest < 1) ? "--identity-rest must be in [0, 1)"
                    : p->identity_rest > 0 && !p->identity_removal ? "--identity-rest needs identity removal (not with --no-identity-removal)"
                    : !(p->ema_decay >= 0 && p->ema_decay < 1) ? "--ema must be in [0, 1)"
                    : NULL;
    G_STATIC_ASSERT (WKP_LSTM_MAX_LAYERS == 8);
    if (bad != NULL)
      {
        g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID, "invalid training parameter: %s", bad);
        return NULL;
      }
  }
  /* --val-speakers names train speakers (a typo used to be ignored); --merge-val
   * would train on them again */
  if (p->val_speakers != NULL && p->val_speakers[0] != NULL)
    {
      if (p->merge_val)
        {
          g_set_error_literal (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                               "invalid training parameter: --merge-val and --val-speakers cannot be combined "
                               "(--merge-val trains on the val speakers)");
          return NULL;
        }
      for (int i = 0; p->val_speakers[i] != NULL; i++)
        {
          gboolean found = FALSE;
          for (guint k = 0; k < data->clips->len && !found; k++)
            {
              const WkpTrainClip *c = g_ptr_array_index (data->clips, k);
              found = c->split == WKP_SPLIT_TRAIN && c->n_frames > 0 && g_strcmp0 (c->speaker, p->val_speakers[i]) == 0;
            }
          if (*p->val_speakers[i] == '\0')
            {
              g_set_error_literal (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                                   "invalid training parameter: --val-speakers has an empty speaker name");
              return NULL;
            }
          if (!found)
            {
              g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                           "invalid training parameter: --val-speakers: speaker “%s” is not in the train split",
                           p->val_speakers[i]);
              return NULL;
            }
        }
    }

  pr->train = g_array_new (FALSE, TRUE, sizeof (PClip));
  pr->val = g_array_new (FALSE, TRUE, sizeof (PClip));
  pr->test = g_array_new (FALSE, TRUE, sizeof (PClip));
  g_array_set_clear_func (pr->train, pclip_clear);
  g_array_set_clear_func (pr->val, pclip_clear);
  g_array_set_clear_func (pr->test, pclip_clear);
  pr->speakers = g_ptr_array_new_with_free_func (g_free);

  /* clips by split; per-clip normalisation first */
  for (guint i = 0; i < data->clips->len; i++)
    {
      const WkpTrainClip *c = g_ptr_array_index (data->clips, i);
      PClip pc = { 0 };
      if (c->n_frames < 1)
        continue;
      pc.clip = c;
      pc.speaker = speaker_index (pr->speakers, c->speaker);
      pc.norm = g_new (float, c->n_frames * D);
      wkp_train_normalize_features (c->features, c->n_frames, D, p->per_clip_norm, NULL, NULL, pc.norm);
      WkpSplit split = c->split;
      if (split == WKP_SPLIT_TRAIN && p->val_speakers && g_strv_contains ((const char * const *) p->val_speakers, c->speaker))
        split = WKP_SPLIT_VAL;
      GArray *dst = split == WKP_SPLIT_TRAIN ? pr->train
                    : split == WKP_SPLIT_VAL ? (p->merge_val ? pr->train : pr->val)
                    : split == WKP_SPLIT_TEST ? pr->test : NULL;
      if (dst == NULL)
        {
          pclip_clear (&pc);
          continue;
        }
      if (p->align_train && dst == pr->train)   /* val clips merged into training too */
        pc.align = c->offset_steps;
      align_rows (pc.norm, c->n_frames, D, pc.align);
      g_array_append_val (dst, pc);
    }
  if (pr->train->len == 0)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID, "no clips in the train split");
      return NULL;
    }

  /* global feature statistics over train rows */
  {
    g_autofree double *s = g_new0 (double, D), *s2 = g_new0 (double, D);
    gint64 n = 0;
    for (guint i = 0; i < pr->train->len; i++)
      {
        const PClip *c = &g_array_index (pr->train, PClip, i);
        for (gint64 t = 0; t < c->clip->n_frames; t++)
          for (int j = 0; j < D; j++)
            {
              double v = c->norm[t * D + j];
              s[j] += v;
              s2[j] += v * v;
            }
        n += c->clip->n_frames;
      }
    pr->fmean = g_new (float, D);
    pr->fstd = g_new (float, D);
    for (int j = 0; j < D; j++)
      {
        double m = s[j] / n;
        pr->fmean[j] = (float) m;
        pr->fstd[j] = (float) MAX (sqrt (MAX (s2[j] / n - m * m, 0.0)), 1e-5);
      }
    pr->train_frames = n;
  }
  GArray *sets[3] = { pr->train, pr->val, pr->test };
  for (int si = 0; si < 3; si++)
    for (guint i = 0; i < sets[si]->len; i++)
      {
        PClip *c = &g_array_index (sets[si], PClip, i);
        for (gint64 t = 0; t < c->clip->n_frames; t++)
          for (int j = 0; j < D; j++)
            c->norm[t * D + j] = (c->norm[t * D + j] - pr->fmean[j]) / pr->fstd[j];
      }

  /* warped copies of the train clips, normalised the same way (the global
   * statistics stay those of the real features: inference sees no warp) */
  if (p->aug_warp > 0)
    {
      const double alphas[N_WARPS] = { 1.0 - p->aug_warp, 1.0 - p->aug_warp / 2, 1.0 + p->aug_warp / 2,
                                       1.0 + p->aug_warp };
      for (int k = 0; k < N_WARPS; k++)
        {
          g_autofree double *M = wkp_features_warp_matrix (&data->features, alphas[k]);
          if (M == NULL)
            {
              g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID, "invalid training parameter: --warp %g",
                           p->aug_warp);
              return NULL;
            }
          for (guint i = 0; i < pr->train->len; i++)
            {
              PClip *c = &g_array_index (pr->train, PClip, i);
              const gint64 n = c->clip->n_frames;
              g_autofree float *raw = g_memdup2 (c->clip->features, sizeof (float) * n * D);
              wkp_features_warp_rows (&data->features, M, raw, n);
              c->warped[k] = g_new (float, n * D);
              wkp_train_normalize_features (raw, n, D, p->per_clip_norm, pr->fmean, pr->fstd, c->warped[k]);
              align_rows (c->warped[k], n, D, c->align);
            }
        }
    }

  /* each speaker's reference shape of the full face (NaN-safe): the mean of
   * all its frames, or with identity_rest > 0 its rest pose, the mean of its
   * frames whose inner-lip aperture is at most its identity_rest quantile */
  const int NS = pr->speakers->len;
  g_autofree double *spk_sum = g_new0 (double, (gsize) NS * WKP_N_LANDMARKS * 2);
  g_autofree gint64 *spk_n = g_new0 (gint64, NS);
  g_autofree gint64 *spk_frames = g_new0 (gint64, NS);
  g_autofree double *spk_rest = speaker_rest_apertures (sets, NS, p->identity_rest);
  for (int si = 0; si < 3; si++)
    for (guint i = 0; i < sets[si]->len; i++)
      {
        const PClip *c = &g_array_index (sets[si], PClip, i);
        spk_frames[c->speaker] += c->clip->n_frames;
        for (gint64 t = 0; t < c->clip->n_frames; t++)
          {
            const float *f = c->clip->targets + t * WKP_N_LANDMARKS * 2;
            if (!row_finite (f, WKP_N_LANDMARKS * 2) ||
                (spk_rest != NULL && !(wkp_face_inner_aperture (f) <= spk_rest[c->speaker])))
              continue;
            for (int j = 0; j < WKP_N_LANDMARKS * 2; j++)
              spk_sum[(gsize) c->speaker * WKP_N_LANDMARKS * 2 + j] += f[j];
            spk_n[c->speaker]++;
          }
      }
  /* mean face: average of the train speakers' means (each speaker counts once) */
  {
    g_autofree double *mf = g_new0 (double, WKP_N_LANDMARKS * 2);
    g_autofree gboolean *is_train = g_new0 (gboolean, NS);
    int n_spk = 0;
    for (guint i = 0; i < pr->train->len; i++)
      is_train[g_array_index (pr->train, PClip, i).speaker] = TRUE;
    for (int s = 0; s < NS; s++)
      if (is_train[s] && spk_n[s] > 0)
        {
          for (int j = 0; j < WKP_N_LANDMARKS * 2; j++)
            mf[j] += spk_sum[(gsize) s * WKP_N_LANDMARKS * 2 + j] / spk_n[s];
          n_spk++;
        }
    if (n_spk == 0)
      {
        g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID, "no landmarks in the train split");
        return NULL;
      }
    for (int j = 0; j < WKP_N_LANDMARKS * 2; j++)
      pr->mean_face[j] = (float) (mf[j] / n_spk);
  }

  /* train speakers and sampling weights */
  {
    g_autofree int *map = g_new (int, NS);
    for (int s = 0; s < NS; s++)
      map[s] = -1;
    for (guint i = 0; i < pr->train->len; i++)
      {
        int s = g_array_index (pr->train, PClip, i).speaker;
        if (map[s] < 0)
          map[s] = pr->n_train_speakers++;
      }
    pr->train_spk_ids = g_new (int, pr->n_train_speakers);
    pr->spk_clips = g_new (GArray *, pr->n_train_speakers);
    pr->spk_clip_cum = g_new0 (double *, pr->n_train_speakers);
    for (int s = 0; s < NS; s++)
      if (map[s] >= 0)
        pr->train_spk_ids[map[s]] = s;
    for (int k = 0; k < pr->n_train_speakers; k++)
      pr->spk_clips[k] = g_array_new (FALSE, FALSE, sizeof (int));
    for (guint i = 0; i < pr->train->len; i++)
      {
        int idx = (int) i;
        g_array_append_val (pr->spk_clips[map[g_array_index (pr->train, PClip, i).speaker]], idx);
      }
    pr->spk_cum = g_new (double, pr->n_train_speakers);
    double acc = 0;
    for (int k = 0; k < pr->n_train_speakers; k++)
      {
        gint64 fr = 0;
        GArray *cl = pr->spk_clips[k];
        pr->spk_clip_cum[k] = g_new (double, cl->len);
        for (guint j = 0; j < cl->len; j++)
          {
            fr += g_array_index (pr->train, PClip, g_array_index (cl, int, j)).clip->n_frames;
            pr->spk_clip_cum[k][j] = (double) fr;
          }
        for (guint j = 0; j < cl->len; j++)
          pr->spk_clip_cum[k][j] /= (double) fr;
        acc += pow ((double) fr, p->speaker_balance);
        pr->spk_cum[k] = acc;
      }
    for (int k = 0; k < pr->n_train_speakers; k++)
      pr->spk_cum[k] /= acc;
  }

  /* target shapes: subset, identity removed; PCA over train frames weighted like the sampling */
  {
    gint64 n_rows = 0;
    for (guint i = 0; i < pr->train->len; i++)
      n_rows += g_array_index (pr->train, PClip, i).clip->n_frames;
    g_autofree float *rows = g_new (float, n_rows * P2);
    g_autofree float *weights = g_new (float, n_rows);
    g_autofree double *spk_w = g_new0 (double, NS);
    for (int k = 0; k < pr->n_train_speakers; k++)
      {
        double prob = pr->spk_cum[k] - (k > 0 ? pr->spk_cum[k - 1] : 0.0);
        int s = pr->train_spk_ids[k];
        spk_w[s] = prob / MAX (spk_frames[s], 1);
      }
    gint64 r = 0;
    for (guint i = 0; i < pr->train->len; i++)
      {
        const PClip *c = &g_array_index (pr->train, PClip, i);
        for (gint64 t = 0; t < c->clip->n_frames; t++, r++)
          {
            const float *f = c->clip->targets + t * WKP_N_LANDMARKS * 2;
            for (int q = 0; q < pr->P; q++)
              for (int xy = 0; xy < 2; xy++)
                {
                  int j = 2 * pr->point_index[q] + xy;
                  double v = f[j];
                  if (p->identity_removal && spk_n[c->speaker] > 0)
                    v = v - spk_sum[(gsize) c->speaker * WKP_N_LANDMARKS * 2 + j] / spk_n[c->speaker] + pr->mean_face[j];
                  rows[r * P2 + 2 * q + xy] = (float) v;
                }
            weights[r] = (float) (spk_w[c->speaker] * 1e6);
          }
      }
    WkpPcaParams pp = { p->n_components, p->pca_min_explained, p->whiten };
    pr->pca = wkp_pca_fit (rows, n_rows, P2, P2, weights, &pp, error);
    if (pr->pca == NULL)
      {
        g_prefix_error (error, "train split landmarks: ");
        return NULL;
      }
    /* nothing to learn (e.g. one frame per speaker with identity removal):
     * said here, not later as "training diverged" */
    if (!(pr->pca->total_variance > 1e-12))
      {
        g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                     "train split landmarks do not vary (%" G_GINT64_FORMAT " frames%s): nothing to learn",
                     (gint64) n_rows, p->identity_removal ? "; identity removal needs several frames per speaker" : "");
        return NULL;
      }
    pr->K = pr->pca->n_components;
  }

  /* coefficients and reference apertures for every clip */
  for (int si = 0; si < 3; si++)
    for (guint i = 0; i < sets[si]->len; i++)
      {
        PClip *c = &g_array_index (sets[si], PClip, i);
        const gint64 n = c->clip->n_frames;
        g_autofree float *shape = g_new (float, P2);
        c->coef = g_new (float, n * pr->K);
        c->aperture = g_new (double, n);
        for (gint64 t = 0; t < n; t++)
          {
            const float *f = c->clip->targets + t * WKP_N_LANDMARKS * 2;
            c->aperture[t] = wkp_face_inner_aperture (f);
            gboolean ok = spk_n[c->speaker] > 0;
            for (int q = 0; q < pr->P && ok; q++)
              for (int xy = 0; xy < 2; xy++)
                {
                  int j = 2 * pr->point_index[q] + xy;
                  double v = f[j];
                  if (!isfinite (v))
                    ok = FALSE;
                  if (p->identity_removal)
                    v = v - spk_sum[(gsize) c->speaker * WKP_N_LANDMARKS * 2 + j] / spk_n[c->speaker] + pr->mean_face[j];
                  shape[2 * q + xy] = (float) v;
                }
            if (ok)
              wkp_pca_project (pr->pca, shape, 1, c->coef + t * pr->K);
            else
              for (int k = 0; k < pr->K; k++)
                c->coef[t * pr->K + k] = NAN;
          }
      }

  /* loss weights */
  pr->loss_w = g_new (float, pr->K);
  {
    double sv = 0;
    for (int k = 0; k < pr->K; k++)
      sv += pr->pca->variance[k];
    for (int k = 0; k < pr->K; k++)
      {
        double w;
        if (p->whiten)
          w = p->variance_weighted ? pr->K * pr->pca->variance[k] / sv : 1.0;
        else
          w = pr->K / MAX (sv, 1e-30);
        pr->loss_w[k] = (float) w;
      }
  }

  /* energy columns for the gain augmentation */
  {
    const WkpFeatureConfig *fc = &data->features;
    int coeffs = wkp_feature_config_coeffs (fc), block = coeffs * (1 + fc->deltas);
    for (int sub = 0; sub < fc->subframes && pr->n_static_cols < (int) G_N_ELEMENTS (pr->static_cols); sub++)
      {
        if (fc->kind == WKP_FEATURE_MFCC)
          pr->static_cols[pr->n_static_cols++] = sub * block;
        else
          for (int c = 0; c < coeffs && pr->n_static_cols < (int) G_N_ELEMENTS (pr->static_cols); c++)
            pr->static_cols[pr->n_static_cols++] = sub * block + c;
      }
    for (int i = 0; i < pr->n_static_cols; i++)
      if (pr->static_cols[i] >= D)
        pr->n_static_cols = i;
  }

  pr->shape = (WkpNetShape) { pr->in_size, p->hidden_size, p->num_layers, p->bidirectional, pr->K };
  pr->steps_per_epoch = p->steps_per_epoch > 0 ? p->steps_per_epoch
                        : (int) MAX (10, pr->train_frames / ((gint64) p->batch_size * p->window));
  return g_steal_pointer (&pr);
}

/* ---- minibatches ------------------------------------------------------------------ */

typedef struct {
  float *x;      /* [L, B, in] */
  float *z;      /* [L, B, K] */
  float *mask;   /* [L, B] */
  float *noise;  /* scratch [L + 2 context, D] */
} Batch;

static int
pick_cum (const double *cum, int n, double u)
{
  int lo = 0, hi = n - 1;
  while (lo < hi)
    {
      int mid = (lo + hi) / 2;
      if (u < cum[mid])
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo;
}

static void
make_batch (const Prep *pr, Rng *rng, Batch *bt)
{
  const WkpTrainParams *p = &pr->p;
  const int L = p->window, B = p->batch_size, D = pr->D, K = pr->K, in = pr->in_size, C = p->context;
  g_autofree float *row = g_new (float, in);
  for (int b = 0; b < B; b++)
    {
      int ks = pick_cum (pr->spk_cum, pr->n_train_speakers, rng_uniform (rng));
      GArray *cl = pr->spk_clips[ks];
      int ci = g_array_index (cl, int, pick_cum (pr->spk_clip_cum[ks], cl->len, rng_uniform (rng)));
      const PClip *c = &g_array_index (pr->train, PClip, ci);
      const gint64 n = c->clip->n_frames, S = n + p->delay;
      gint64 s0 = rng_int (rng, MAX (S - L, 0) + 1);
      int shift = p->aug_shift > 0 ? (int) rng_int (rng, 2 * p->aug_shift + 1) - p->aug_shift : 0;
      /* the real features or one of the warped copies (drawn only when enabled,
       * so that runs without it keep their random sequence) */
      int version = p->aug_warp > 0 ? (int) rng_int (rng, N_WARPS + 1) : 0;
      const float *feat = version == 0 ? c->norm : c->warped[version - 1];
      float gain = p->aug_gain > 0 ? (float) (p->aug_gain * rng_normal (rng)) : 0.0f;
      /* noise per source frame of the window (shared by the context copies) */
      const int NF = L + 2 * C;
      if (p->aug_noise > 0)
        for (int i = 0; i < NF * D; i++)
          bt->noise[i] = (float) p->aug_noise * rng_normal_fast (rng);
      for (int l = 0; l < L; l++)
        {
          gint64 s = s0 + l;
          float *x = bt->x + ((gsize) l * B + b) * in;
          wkp_train_stack_row (feat, n, D, C, s + shift, x);
          for (int k = 0; k < 2 * C + 1; k++)
            {
              float *xr = x + (gsize) k * D;
              if (p->aug_noise > 0)
                {
                  const float *nz = bt->noise + (gsize) (l + k) * D;
                  for (int j = 0; j < D; j++)
                    xr[j] += nz[j];
                }
              for (int j = 0; j < pr->n_static_cols; j++)
                xr[pr->static_cols[j]] += gain;
            }
          if (p->aug_dropout > 0)
            {
              const guint64 thr = (guint64) (p->aug_dropout * 18446744073709551616.0);
              const float keep = (float) (1.0 / (1.0 - p->aug_dropout));
              for (int j = 0; j < in; j++)
                x[j] = rng_next (rng) < thr ? 0.0f : x[j] * keep;
            }
          gint64 f = s - p->delay;
          float *z = bt->z + ((gsize) l * B + b) * K;
          float m = 0.0f;
          if (s < S && f >= 0 && f < n && (l >= p->warmup || s0 == 0) && isfinite (c->coef[f * K]))
            {
              m = 1.0f;
              memcpy (z, c->coef + f * K, sizeof (float) * K);
            }
          else
            memset (z, 0, sizeof (float) * K);
          bt->mask[(gsize) l * B + b] = m;
        }
    }
}

/* ---- optimiser ------------------------------------------------------------------- */

typedef struct {
  gsize n;
  float *params, *grad, *m, *v;
  gint64 step;
} Opt;

/* The warm-up a run of TOTAL_STEPS uses: --lr-warmup, at most a quarter of
 * the run (see lr_at) */
static gint64
lr_warmup_used (const WkpTrainParams *p, gint64 total_steps)
{
  return total_steps > 0 ? MIN ((gint64) p->lr_warmup_steps, total_steps / 4) : p->lr_warmup_steps;
}

static double
lr_at (const WkpTrainParams *p, gint64 step, gint64 total_steps)
{
  /* step is 1-based: the lr used by optimiser step number `step` */
  double lr = p->lr;
  if (p->schedule == WKP_LR_COSINE && total_steps > 0)
    {
      double prog = MIN (1.0, (double) (step - 1) / (double) total_steps);
      lr = p->lr_min + 0.5 * (p->lr - p->lr_min) * (1.0 + cos (G_PI * prog));
    }
  /* a short run (--epochs 5) warms up over at most a quarter of its steps, or
   * it would end before its rate came near --lr (the defaults' 800 steps are
   * untouched: 100 < 200) */
  gint64 warmup = lr_warmup_used (p, total_steps);
  if (warmup > 0 && step <= warmup)
    lr *= (double) step / (double) warmup;
  return lr;
}

/* clip_grad_norm_ + AdamW exactly as PyTorch orders them */
static double
opt_step (Opt *o, const WkpTrainParams *p, double lr)
{
  double ss = 0.0;
  for (gsize i = 0; i < o->n; i++)
    ss += (double) o->grad[i] * o->grad[i];
  double norm = sqrt (ss);
  if (p->clip_norm > 0 && isfinite (norm))
    {
      double coef = p->clip_norm / (norm + 1e-6);
      if (coef < 1.0)
        {
          float cf = (float) coef;
          for (gsize i = 0; i < o->n; i++)
            o->grad[i] *= cf;
        }
    }
  o->step++;
  const double bc1 = 1.0 - pow (p->beta1, (double) o->step), bc2 = 1.0 - pow (p->beta2, (double) o->step);
  const float b1 = (float) p->beta1, b2 = (float) p->beta2;
  const float step_size = (float) (lr / bc1), bc2s = (float) sqrt (bc2), eps = (float) p->eps;
  const float decay = (float) (1.0 - lr * p->weight_decay);
  for (gsize i = 0; i < o->n; i++)
    {
      float g = o->grad[i];
      o->params[i] *= decay;
      o->m[i] = b1 * o->m[i] + (1.0f - b1) * g;
      o->v[i] = b2 * o->v[i] + (1.0f - b2) * g * g;
      float denom = sqrtf (o->v[i]) / bc2s + eps;
      o->params[i] -= step_size * o->m[i] / denom;
    }
  return norm;
}

/* PyTorch's default init: U(-1/sqrt(H), 1/sqrt(H)) for the LSTM, U(-1/sqrt(fan_in), ...) for the head. */
static void
init_params (const WkpNetShape *s, float *params, Rng *rng)
{
  const int dirs = s->bidirectional ? 2 : 1;
  gsize off, size;
  char name[64];
  for (int t = 0; t < wkp_net_n_tensors (s); t++)
    {
      wkp_net_tensor_info (s, t, &off, &size, name);
      double bound = g_str_has_prefix (name, "head") ? 1.0 / sqrt ((double) s->hidden_size * dirs)
                                                     : 1.0 / sqrt ((double) s->hidden_size);
      for (gsize i = 0; i < size; i++)
        params[off + i] = (float) ((2.0 * rng_uniform (rng) - 1.0) * bound);
    }
}

/* ---- validation ------------------------------------------------------------------ */

typedef struct {
  double loss;
  double r;
  gint64 n_frames;
  double loss_constant;   /* the same loss of a constant prediction, 0 in PCA space */
} Eval;

static void
evaluate (const Prep *pr, const float *params, GArray *set, WkpNetWsF32 **ws, gint64 *ws_cap, Eval *out,
          JsonBuilder *per_clip)
{
  const WkpTrainParams *p = &pr->p;
  const int K = pr->K, in = pr->in_size, P2 = 2 * pr->P;
  double loss_sum = 0, loss_n = 0, const_sum = 0;
  gint64 total = 0;
  for (guint i = 0; i < set->len; i++)
    total += g_array_index (set, PClip, i).clip->n_frames;
  g_autofree double *ref = g_new (double, MAX (total, 1));
  g_autofree double *pred = g_new (double, MAX (total, 1));
  gint64 pos = 0;
  for (guint i = 0; i < set->len; i++)
    {
      const PClip *c = &g_array_index (set, PClip, i);
      const gint64 n = c->clip->n_frames, S = n + p->delay;
      if (*ws == NULL || S > *ws_cap)
        {
          wkp_net_ws_free_f32 (*ws);
          *ws_cap = MAX (S, 4096);
          *ws = wkp_net_ws_new_f32 (&pr->shape, *ws_cap);
        }
      g_autofree float *x = g_new (float, S * in);
      g_autofree float *y = g_new (float, S * K);
      g_autofree float *z = g_new0 (float, S * K);
      g_autofree float *mask = g_new0 (float, S);
      g_autofree float *shape = g_new (float, P2);
      for (gint64 s = 0; s < S; s++)
        wkp_train_stack_row (c->norm, n, pr->D, p->context, s, x + s * in);
      wkp_net_forward_f32 (*ws, params, x, (int) S, 1, y);
      for (gint64 f = 0; f < n; f++)
        if (isfinite (c->coef[f * K]))
          {
            memcpy (z + (f + p->delay) * K, c->coef + f * K, sizeof (float) * K);
            mask[f + p->delay] = 1.0f;
          }
      double l = wkp_net_loss_f32 (y, z, mask, (int) S, 1, K, pr->loss_w, p->velocity_weight, NULL);
      double cnt = 0;
      for (gint64 s = 0; s < S; s++)
        cnt += mask[s];
      {
        g_autofree float *zero = g_new0 (float, S * K);
        const_sum += cnt * wkp_net_loss_f32 (zero, z, mask, (int) S, 1, K, pr->loss_w, p->velocity_weight, NULL);
      }
      loss_sum += l * cnt;
      loss_n += cnt;
      g_autofree double *cref = g_new (double, MAX (n, 1)), *cpred = g_new (double, MAX (n, 1));
      for (gint64 f = 0; f < n; f++)
        {
          wkp_pca_reconstruct (pr->pca, y + (f + p->delay) * K, 1, shape);
          ref[pos] = cref[f] = c->aperture[f];
          pred[pos] = cpred[f] = aperture_of_subset (pr, shape);
          pos++;
        }
      if (per_clip)
        {
          json_builder_begin_object (per_clip);
          json_builder_set_member_name (per_clip, "name");
          json_builder_add_string_value (per_clip, c->clip->name);
          json_builder_set_member_name (per_clip, "speaker");
          json_builder_add_string_value (per_clip, c->clip->speaker);
          json_builder_set_member_name (per_clip, "frames");
          json_builder_add_int_value (per_clip, n);
          double rr = wkp_metrics_pearson (cref, cpred, n);
          json_builder_set_member_name (per_clip, "aperture_r");
          if (isfinite (rr))
            json_builder_add_double_value (per_clip, rr);
          else
            json_builder_add_null_value (per_clip);
          json_builder_end_object (per_clip);
        }
    }
  out->loss = loss_n > 0 ? loss_sum / loss_n : NAN;
  out->loss_constant = loss_n > 0 ? const_sum / loss_n : NAN;
  out->r = wkp_metrics_pearson (ref, pred, pos);
  out->n_frames = pos;
}

/* ---- model file -------------------------------------------------------------------- */

static JsonNode *
training_summary (const Prep *pr, const WkpTrainResult *res, int best_epoch, double train_seconds,
                  const GString *log, double val_loss_constant)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "trainer");
  json_builder_add_string_value (b, "wav2kp train (C, OpenBLAS)");
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, pr->data->source ? pr->data->source : "(in memory)");
  json_builder_set_member_name (b, "params");
  json_builder_add_value (b, wkp_train_params_to_json (&pr->p));
  /* params hold --lr-warmup as asked (they are the run's identity for
   * --resume); a short run used less, and the model said the asked number */
  json_builder_set_member_name (b, "lr_warmup_steps_used");
  json_builder_add_int_value (b, lr_warmup_used (&pr->p, (gint64) pr->p.max_epochs * pr->steps_per_epoch));
  GArray *sets[3] = { pr->train, pr->val, pr->test };
  const char *names[3] = { "train", "val", "test" };
  for (int si = 0; si < 3; si++)
    {
      json_builder_set_member_name (b, names[si]);
      json_builder_begin_object (b);
      gint64 fr = 0;
      g_autoptr(GPtrArray) spk = g_ptr_array_new ();
      for (guint i = 0; i < sets[si]->len; i++)
        {
          const PClip *c = &g_array_index (sets[si], PClip, i);
          fr += c->clip->n_frames;
          if (!g_ptr_array_find_with_equal_func (spk, c->clip->speaker, g_str_equal, NULL))
            g_ptr_array_add (spk, c->clip->speaker);
        }
      json_builder_set_member_name (b, "clips");
      json_builder_add_int_value (b, sets[si]->len);
      json_builder_set_member_name (b, "frames");
      json_builder_add_int_value (b, fr);
      json_builder_set_member_name (b, "speakers");
      json_builder_begin_array (b);
      for (guint i = 0; i < spk->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (spk, i));
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "pca_explained_variance");
  json_builder_add_double_value (b, wkp_pca_explained (pr->pca, pr->K));
  json_builder_set_member_name (b, "best_epoch");
  json_builder_add_int_value (b, best_epoch);
  json_builder_set_member_name (b, "epochs_run");
  json_builder_add_int_value (b, res ? res->epochs_run : best_epoch);
  json_builder_set_member_name (b, "steps_per_epoch");
  json_builder_add_int_value (b, pr->steps_per_epoch);
  json_builder_set_member_name (b, "train_seconds_to_best");
  json_builder_add_double_value (b, train_seconds);
  {
    /* the epochs so far, as in MODEL.csv (the studio plots them) */
    g_autoptr(GError) local = NULL;
    g_autoptr(WkpTrainLog) history = wkp_train_log_parse (log->str, log->len, "training log", &local);
    if (history != NULL)
      {
        history->best_epoch = best_epoch;
        history->val_loss_constant = val_loss_constant;
        json_builder_set_member_name (b, "history");
        json_builder_add_value (b, wkp_train_log_to_json (history));
      }
    else
      g_warning ("%s", local->message);   /* the trainer's own log: cannot happen */
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
save_model (const Prep *pr, const float *params, JsonNode *training, JsonNode *metrics, const char *path,
            GError **error)
{
  WkpModel m;
  memset (&m, 0, sizeof m);
  m.features = pr->data->features;
  m.fps = pr->data->fps;
  m.context = pr->p.context;
  m.delay = pr->p.delay;
  m.feature_mean = pr->fmean;
  m.feature_std = pr->fstd;
  m.per_clip_norm = pr->p.per_clip_norm;
  m.n_points = pr->P;
  m.point_index = (int *) pr->point_index;
  m.mean_face = (float *) pr->mean_face;
  m.n_components = pr->K;
  m.pca_mean = pr->pca->mean;
  m.pca_basis = pr->pca->basis;
  m.pca_scale = pr->pca->scale;
  g_autoptr(WkpLstm) lstm = wkp_lstm_new (pr->shape.input_size, pr->shape.hidden_size, pr->shape.num_layers,
                                          pr->shape.bidirectional, pr->shape.output_size);
  wkp_net_to_lstm (&pr->shape, params, lstm);
  m.lstm = lstm;
  m.training = training;
  m.metrics = metrics;
  /* write beside the target and rename, so the model appears atomically
   * whatever wkp_model_save does internally */
  g_autofree char *tmp = g_strdup_printf ("%s.tmp-%d", path, (int) getpid ());
  g_autoptr(GError) local = NULL;
  if (!wkp_model_save (&m, tmp, &local))
    {
      /* the temporary name means nothing to the user: name the output */
      g_autoptr(GString) msg = g_string_new (local->message);
      g_string_replace (msg, tmp, path, 0);
      g_set_error_literal (error, local->domain, local->code, msg->str);
      g_unlink (tmp);
      return FALSE;
    }
  if (g_rename (tmp, path) != 0)
    {
      int e = errno;
      g_unlink (tmp);
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_IO, "%s: cannot write: %s", path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

/* ---- checkpoints ------------------------------------------------------------------- */

typedef struct {
  int      epoch;          /* completed epochs */
  gint64   step;
  Rng      rng;
  double   best_metric;
  int      best_epoch;
  double   best_val_loss, best_val_r;
  int      bad_epochs;
  gboolean finished;
  double   seconds;        /* accumulated training wall time */
  double   seconds_to_best;
  GString *log;            /* CSV text */
} State;

static char *
config_string (const WkpTrainParams *p, const Prep *pr)
{
  WkpTrainParams q = *p;
  q.stop_after = 0;
  q.n_threads = 0;
  g_autoptr(JsonNode) node = wkp_train_params_to_json (&q);
  g_autoptr(JsonNode) feat = wkp_feature_config_to_key_json (&pr->data->features);
  g_autofree char *js = wkp_json_to_string (node, FALSE), *fs = NULL;
  g_autofree char *fps = wkp_rational_to_string (pr->data->fps);
  /* the data's features too: a dataset prepared again with other features
   * (--fmin 300) between two halves of a run was resumed on, the model
   * saying the second half's */
  json_object_set_string_member (json_node_get_object (feat), "fps", fps);
  fs = wkp_json_to_string (feat, FALSE);
  return g_strdup_printf ("%s|clips=%u/%u|frames=%" G_GINT64_FORMAT "|n=%zu|features=%s", js, pr->train->len,
                          pr->val->len, pr->train_frames, wkp_net_n_params (&pr->shape), fs);
}

/* What differs between two config strings, for the user: "epochs 3, now 5;
 * lr 0.001, now 0.0005" (the settings), or the data's counts; NULL when
 * nothing can be told apart. */
static char *
config_difference (const char *was, const char *now)
{
  g_auto(GStrv) a = g_strsplit (was, "|", 2), b = g_strsplit (now, "|", 2);
  g_autoptr(JsonParser) pa = json_parser_new (), pb = json_parser_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  JsonObject *oa, *ob;
  g_autoptr(GList) names = NULL;

  if (a[0] == NULL || b[0] == NULL || !json_parser_load_from_data (pa, a[0], -1, NULL)
      || !json_parser_load_from_data (pb, b[0], -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (pa))
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (pb)))
    return NULL;
  oa = json_node_get_object (json_parser_get_root (pa));
  ob = json_node_get_object (json_parser_get_root (pb));
  names = json_object_get_members (ob);
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonNode *va = json_object_get_member (oa, l->data), *vb = json_object_get_member (ob, l->data);
      g_autofree char *ta = va != NULL ? json_to_string (va, FALSE) : g_strdup ("(none)");
      g_autofree char *tb = json_to_string (vb, FALSE);
      if (g_strcmp0 (ta, tb) != 0)
        g_string_append_printf (out, "%s%s %s, now %s", out->len > 0 ? "; " : "", (const char *) l->data, ta, tb);
    }
  if (out->len == 0 && g_strcmp0 (a[1], b[1]) != 0)
    {
      /* the data: "clips=T/V|frames=N|n=P|features={...}" */
      g_auto(GStrv) ta = g_strsplit (a[1] != NULL ? a[1] : "", "|", -1), tb = g_strsplit (b[1] != NULL ? b[1] : "", "|", -1);
      for (guint i = 0; ta[i] != NULL && tb[i] != NULL; i++)
        if (g_strcmp0 (ta[i], tb[i]) != 0)
          {
            if (g_str_has_prefix (ta[i], "features="))
              g_string_append_printf (out, "%sthe dataset's features (prepared again with other options)",
                                      out->len > 0 ? "; " : "");
            else if (g_str_has_prefix (ta[i], "clips=") && g_str_has_prefix (tb[i], "clips="))
              g_string_append_printf (out, "%sthe dataset's train/val clips %s, now %s", out->len > 0 ? "; " : "",
                                      ta[i] + 6, tb[i] + 6);
            else if (g_str_has_prefix (ta[i], "frames=") && g_str_has_prefix (tb[i], "frames="))
              g_string_append_printf (out, "%sthe train frames %s, now %s", out->len > 0 ? "; " : "", ta[i] + 7,
                                      tb[i] + 7);
          }
      if (out->len == 0)
        g_string_append (out, "the data");
    }
  return out->len > 0 ? g_string_free (g_steal_pointer (&out), FALSE) : NULL;
}

static gboolean
save_checkpoint (const char *path, const char *config, const State *st, const Opt *o, const float *best,
                 const float *ema, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "config");
  json_builder_add_string_value (b, config);
  json_builder_set_member_name (b, "epoch");
  json_builder_add_int_value (b, st->epoch);
  json_builder_set_member_name (b, "step");
  json_builder_add_int_value (b, st->step);
  json_builder_set_member_name (b, "rng");
  json_builder_begin_array (b);
  for (int i = 0; i < 4; i++)
    {
      char hex[17];
      g_snprintf (hex, sizeof hex, "%016" G_GINT64_MODIFIER "x", st->rng.s[i]);
      json_builder_add_string_value (b, hex);
    }
  json_builder_end_array (b);
  /* doubles stored exactly as their bit patterns */
  const double dv[5] = { st->best_metric, st->best_val_loss, st->best_val_r, st->seconds, st->seconds_to_best };
  json_builder_set_member_name (b, "doubles");
  json_builder_begin_array (b);
  for (int i = 0; i < 5; i++)
    {
      guint64 bits;
      char hex[17];
      memcpy (&bits, &dv[i], 8);
      g_snprintf (hex, sizeof hex, "%016" G_GINT64_MODIFIER "x", bits);
      json_builder_add_string_value (b, hex);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "best_epoch");
  json_builder_add_int_value (b, st->best_epoch);
  json_builder_set_member_name (b, "bad_epochs");
  json_builder_add_int_value (b, st->bad_epochs);
  json_builder_set_member_name (b, "finished");
  json_builder_add_boolean_value (b, st->finished);
  json_builder_set_member_name (b, "n_params");
  json_builder_add_int_value (b, (gint64) o->n);
  json_builder_set_member_name (b, "log");
  json_builder_add_string_value (b, st->log->str);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *js = wkp_json_to_string (root, FALSE);

  GByteArray *buf = g_byte_array_new ();
  guint32 ver = GUINT32_TO_LE (CKPT_VERSION), len = GUINT32_TO_LE ((guint32) strlen (js));
  g_byte_array_append (buf, (const guint8 *) CKPT_MAGIC, 8);
  g_byte_array_append (buf, (const guint8 *) &ver, 4);
  g_byte_array_append (buf, (const guint8 *) &len, 4);
  g_byte_array_append (buf, (const guint8 *) js, strlen (js));
  while (buf->len % 16)
    g_byte_array_append (buf, (const guint8 *) "", 1);
  g_byte_array_append (buf, (const guint8 *) o->params, o->n * sizeof (float));
  g_byte_array_append (buf, (const guint8 *) o->m, o->n * sizeof (float));
  g_byte_array_append (buf, (const guint8 *) o->v, o->n * sizeof (float));
  g_byte_array_append (buf, (const guint8 *) best, o->n * sizeof (float));
  if (ema)
    g_byte_array_append (buf, (const guint8 *) ema, o->n * sizeof (float));
  g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes (buf);
  return wkp_write_file_atomic (path, bytes, error);
}

static gboolean
ckpt_has_value (JsonObject *obj, const char *key, GType type)
{
  JsonNode *n = json_object_get_member (obj, key);
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == type;
}

/* An integer member in [0, hi]. */
static gboolean
ckpt_int (JsonObject *obj, const char *key, gint64 hi, gint64 *out)
{
  JsonNode *n = json_object_get_member (obj, key);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return *out >= 0 && *out <= hi;
}

/* An array of @n strings of exactly 16 hex digits (how 64-bit states are stored). */
static gboolean
ckpt_hex_array (JsonObject *obj, const char *key, guint n, guint64 *out)
{
  JsonNode *node = json_object_get_member (obj, key);
  JsonArray *a;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  a = json_node_get_array (node);
  if (json_array_get_length (a) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      const char *h;
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        return FALSE;
      h = json_node_get_string (e);
      if (strlen (h) != 16 || strspn (h, "0123456789abcdefABCDEF") != 16)
        return FALSE;
      out[i] = g_ascii_strtoull (h, NULL, 16);
    }
  return TRUE;
}

static gboolean
load_checkpoint (const char *path, const char *config, State *st, Opt *o, float *best, float *ema,
                 GError **error)
{
  g_autoptr(GBytes) bytes = wkp_read_file (path, error);
  if (bytes == NULL)
    return FALSE;
  gsize size;
  const guint8 *d = g_bytes_get_data (bytes, &size);
  guint32 ver, len;
  if (size < 16 || memcmp (d, CKPT_MAGIC, 8) != 0)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID, "%s: not a wav2kp training checkpoint", path);
      return FALSE;
    }
  memcpy (&ver, d + 8, 4);
  memcpy (&len, d + 12, 4);
  ver = GUINT32_FROM_LE (ver);
  len = GUINT32_FROM_LE (len);
  if (ver != CKPT_VERSION)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_UNSUPPORTED, "%s: checkpoint version %u is not supported", path,
                   ver);
      return FALSE;
    }
  gsize data_off = (16 + (gsize) len + 15) / 16 * 16;
  if (16 + (gsize) len > size || data_off + (ema ? 5 : 4) * o->n * sizeof (float) != size)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                   "%s: %" G_GSIZE_FORMAT " bytes, but a checkpoint of this model has %" G_GSIZE_FORMAT
                   " (header %u bytes, %d tensor blocks of %" G_GSIZE_FORMAT " values): truncated, or from "
                   "another model size", path, size, data_off + (ema ? 5 : 4) * o->n * sizeof (float), len,
                   ema ? 5 : 4, (gsize) o->n);
      return FALSE;
    }
  /* bit rot in the tensors would otherwise surface as "training diverged" */
  {
    static const char *const blocks[] = { "weights", "Adam first moments", "Adam second moments",
                                          "best weights", "averaged weights" };
    for (gsize i = 0; i < (ema ? 5 : 4) * o->n; i++)
      {
        float x;
        memcpy (&x, d + data_off + i * sizeof (float), sizeof x);
        if (!isfinite (x) || (i / o->n == 2 && x < 0) || fabsf (x) > WKP_MODEL_MAX_ABS_VALUE)
          {
            g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                         "%s: corrupt checkpoint: the stored %s hold %s", path, blocks[i / o->n],
                         !isfinite (x) ? "a non-finite value (NaN or infinity)"
                         : x < 0 && i / o->n == 2 ? "a negative value" : "an absurd value (beyond 1e20)");
            return FALSE;
          }
      }
  }
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) json_error = NULL;
  if (!wkp_json_parser_load (parser, (const char *) d + 16, len, &json_error))
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID, "%s: corrupt checkpoint header: %s", path,
                   json_error->message);
      return FALSE;
    }
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *obj = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (obj == NULL || !ckpt_has_value (obj, "config", G_TYPE_STRING))
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                   "%s: corrupt checkpoint header: not a JSON object with a “config” string", path);
      return FALSE;
    }
  if (g_strcmp0 (json_object_get_string_member (obj, "config"), config) != 0)
    {
      g_autofree char *what = config_difference (json_object_get_string_member (obj, "config"), config);
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_MISMATCH,
                   "%s: the checkpoint was made with other training settings or data%s%s%s; "
                   "use the same options and dataset to resume (--epochs too: the learning-rate schedule spans them)",
                   path, what != NULL ? " (" : "", what != NULL ? what : "", what != NULL ? ")" : "");
      return FALSE;
    }
  /* every field present, of its type and in range (a hand-edited or damaged header
   * must not resume from a zero random state or an impossible epoch) */
  gint64 epoch, step, best_epoch, bad_epochs;
  const char *bad = NULL;
  if (!ckpt_int (obj, "epoch", G_MAXINT32, &epoch))
    bad = "epoch";
  else if (!ckpt_int (obj, "step", G_MAXINT64, &step))
    bad = "step";
  else if (!ckpt_int (obj, "best_epoch", epoch, &best_epoch))
    bad = "best_epoch";
  else if (!ckpt_int (obj, "bad_epochs", epoch, &bad_epochs))
    bad = "bad_epochs";
  else if (!ckpt_hex_array (obj, "rng", 4, st->rng.s) ||
           (st->rng.s[0] | st->rng.s[1] | st->rng.s[2] | st->rng.s[3]) == 0)
    bad = "rng";
  else if (!ckpt_has_value (obj, "finished", G_TYPE_BOOLEAN))
    bad = "finished";
  else if (!ckpt_has_value (obj, "log", G_TYPE_STRING))
    bad = "log";
  guint64 bits[5];
  double dv[5];
  if (bad == NULL && !ckpt_hex_array (obj, "doubles", 5, bits))
    bad = "doubles";
  if (bad == NULL)
    {
      /* best metric: finite once an epoch was best, else the +/-infinity it starts at;
       * best losses and r: finite or NaN (undefined); times: finite, >= 0, in order */
      memcpy (dv, bits, sizeof dv);
      if ((best_epoch > 0 ? !isfinite (dv[0]) : !isinf (dv[0])) || isinf (dv[1]) || isinf (dv[2]) ||
          !(dv[3] >= 0 && dv[3] < 1e12) || !(dv[4] >= 0 && dv[4] <= dv[3]))
        bad = "doubles";
    }
  /* the log is the CSV the run writes: its header line, then one line per epoch */
  if (bad == NULL && !g_str_has_prefix (json_object_get_string_member (obj, "log"), "epoch,") )
    bad = "log";
  if (bad != NULL)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                   "%s: corrupt checkpoint header: field “%s” is missing, of the wrong type or out of range",
                   path, bad);
      return FALSE;
    }
  st->epoch = (int) epoch;
  st->step = step;
  st->best_metric = dv[0];
  st->best_val_loss = dv[1];
  st->best_val_r = dv[2];
  st->seconds = dv[3];
  st->seconds_to_best = dv[4];
  st->best_epoch = (int) best_epoch;
  st->bad_epochs = (int) bad_epochs;
  st->finished = json_object_get_boolean_member (obj, "finished");
  g_string_assign (st->log, json_object_get_string_member (obj, "log"));
  memcpy (o->params, d + data_off, o->n * sizeof (float));
  memcpy (o->m, d + data_off + o->n * sizeof (float), o->n * sizeof (float));
  memcpy (o->v, d + data_off + 2 * o->n * sizeof (float), o->n * sizeof (float));
  memcpy (best, d + data_off + 3 * o->n * sizeof (float), o->n * sizeof (float));
  if (ema)
    memcpy (ema, d + data_off + 4 * o->n * sizeof (float), o->n * sizeof (float));
  o->step = st->step;
  return TRUE;
}

static void
csv_num (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (!isfinite (v))
    g_string_append (s, "nan");
  else
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

/* ---- the run ------------------------------------------------------------------------ */

gboolean
wkp_train_run (const WkpTrainData *data, const WkpTrainParams *params, const char *model_path,
               const char *checkpoint_path, const char *log_csv, gboolean resume, WkpProgressFunc progress,
               WkpTrainEpochFunc epoch_cb, gpointer user_data, GCancellable *cancellable, WkpTrainResult *result,
               GError **error)
{
  g_return_val_if_fail (data != NULL && params != NULL && model_path != NULL, FALSE);
  g_autoptr(GTimer) timer = g_timer_new ();
  WkpTrainResult res = { 0 };
  res.test_r = NAN;
  double val_loss_constant = NAN;   /* the same every epoch: the level to get under */
  g_autofree char *ckpt = checkpoint_path ? g_strdup (checkpoint_path) : g_strconcat (model_path, ".ckpt", NULL);

  if (resume && g_file_test (ckpt, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID, "Cannot resume from %s: it is a folder, not a checkpoint",
                   ckpt);
      return FALSE;
    }
  if (resume && !g_file_test (ckpt, G_FILE_TEST_EXISTS))
    {
      /* (a run stopped before its first epoch ended left none: "no such file" said nothing of that) */
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_NOT_FOUND,
                   "%s: no such checkpoint, so nothing to resume (a run writes it at the end of its first epoch); "
                   "start the run without --resume", ckpt);
      return FALSE;
    }
  if (!wkp_check_output_path (model_path, error) || !wkp_check_output_path (ckpt, error) ||
      (log_csv && !wkp_check_output_path (log_csv, error)))
    return FALSE;

  /* before the PCA too: its BLAS sums depend on the thread count, and a PCA
   * fitted with the library's default threads differed between two runs in
   * one process (their models could not be ensembled) */
  if (params->n_threads > 0)
    openblas_set_num_threads (params->n_threads);
  g_autoptr(Prep) pr = prep_new (data, params, error);
  if (pr == NULL)
    return FALSE;
  const WkpTrainParams *p = &pr->p;

  const int L = p->window, B = p->batch_size, K = pr->K, in = pr->in_size;
  Opt o = { 0 };
  o.n = wkp_net_n_params (&pr->shape);
  g_autofree float *params_v = o.params = g_new (float, o.n);
  g_autofree float *grad_v = o.grad = g_new0 (float, o.n);
  g_autofree float *m_v = o.m = g_new0 (float, o.n);
  g_autofree float *v_v = o.v = g_new0 (float, o.n);

  State st = { 0 };
  g_autoptr(GString) log = st.log = g_string_new (WKP_TRAIN_LOG_HEADER "\n");
  g_autofree char *config = config_string (params, pr);
  const gboolean maximise = p->early_stop == WKP_EARLY_STOP_APERTURE;
  g_autofree float *best_params = g_new (float, o.n);
  g_autofree float *ema = p->ema_decay > 0 ? g_new (float, o.n) : NULL;
  rng_seed (&st.rng, p->seed);
  if (resume)
    {
      if (!load_checkpoint (ckpt, config, &st, &o, best_params, ema, error))
        return FALSE;
      /* a run that stops here must have finished with a best epoch to write */
      if (st.epoch < 0 || st.epoch > p->max_epochs || st.best_epoch < 0 || st.best_epoch > st.epoch ||
          (st.epoch == p->max_epochs && !st.finished) || (st.finished && st.best_epoch == 0))
        {
          g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                       "%s: inconsistent checkpoint (epoch %d of %d, best epoch %d, %s)", ckpt, st.epoch,
                       p->max_epochs, st.best_epoch, st.finished ? "finished" : "not finished");
          return FALSE;
        }
      /* checkpoints are written after whole epochs: the optimiser step (which drives Adam's
       * bias correction and the learning-rate schedule) follows from the epoch */
      if (st.step != (gint64) st.epoch * pr->steps_per_epoch)
        {
          g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                       "%s: inconsistent checkpoint (step %" G_GINT64_FORMAT " after epoch %d, expected %"
                       G_GINT64_FORMAT " at %d steps per epoch)", ckpt, st.step, st.epoch,
                       (gint64) st.epoch * pr->steps_per_epoch, pr->steps_per_epoch);
          return FALSE;
        }
    }
  else
    {
      init_params (&pr->shape, o.params, &st.rng);
      memcpy (best_params, o.params, o.n * sizeof (float));
      if (ema)
        memcpy (ema, o.params, o.n * sizeof (float));
      st.best_metric = maximise ? -INFINITY : INFINITY;
      st.best_val_loss = st.best_val_r = NAN;
    }

  Batch bt;
  g_autofree float *bx = bt.x = g_new (float, (gsize) L * B * in);
  g_autofree float *bz = bt.z = g_new (float, (gsize) L * B * K);
  g_autofree float *bm = bt.mask = g_new (float, (gsize) L * B);
  g_autofree float *bn = bt.noise = g_new (float, (gsize) (L + 2 * p->context) * pr->D);
  g_autofree float *y = g_new (float, (gsize) L * B * K);
  g_autofree float *dy = g_new (float, (gsize) L * B * K);
  g_autoptr(WkpNetWsF32) ws = wkp_net_ws_new_f32 (&pr->shape, (gint64) L * B);
  WkpNetWsF32 *vws = NULL;
  gint64 vws_cap = 0;
  const gint64 total_steps = (gint64) p->max_epochs * pr->steps_per_epoch;
  gboolean ok = TRUE, log_written = FALSE;

  while (!st.finished && st.epoch < p->max_epochs)
    {
      g_autoptr(GTimer) et = g_timer_new ();
      double loss_acc = 0.0;
      int epoch = st.epoch + 1;
      g_autofree char *what = g_strdup_printf ("epoch %d/%d", epoch, p->max_epochs);
      double lr = 0.0;
      for (int it = 0; it < pr->steps_per_epoch; it++)
        {
          if (wkp_check_cancelled (cancellable, error))
            {
              ok = FALSE;
              goto out;
            }
          make_batch (pr, &st.rng, &bt);
          wkp_net_forward_f32 (ws, o.params, bt.x, L, B, y);
          double loss = wkp_net_loss_f32 (y, bt.z, bt.mask, L, B, K, pr->loss_w, p->velocity_weight, dy);
          wkp_net_backward_f32 (ws, o.params, bt.x, dy, o.grad);
          lr = lr_at (p, o.step + 1, total_steps);
          opt_step (&o, p, lr);
          if (ema)
            {
              const float dcy = (float) p->ema_decay, one = 1.0f - dcy;
              for (gsize i = 0; i < o.n; i++)
                ema[i] = dcy * ema[i] + one * o.params[i];
            }
          loss_acc += loss;
          if (progress)
            progress (it + 1, pr->steps_per_epoch, what, user_data);
        }
      st.step = o.step;
      for (gsize i = 0; i < o.n; i++)
        if (!isfinite (o.params[i]))
          {
            g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_FAILED,
                         "training diverged at epoch %d (non-finite weights); lower --lr", epoch);
            ok = FALSE;
            goto out;
          }

      /* the weights that are validated and saved: the running average when enabled */
      const float *wts = ema ? ema : o.params;
      Eval ev = { NAN, NAN, 0, NAN };
      if (pr->val->len > 0)
        evaluate (pr, wts, pr->val, &vws, &vws_cap, &ev, NULL);
      val_loss_constant = ev.loss_constant;
      double metric = maximise ? ev.r : ev.loss;
      if (pr->val->len == 0)   /* nothing to validate on: the latest epoch is the best */
        metric = maximise ? (double) epoch : -(double) epoch;
      gboolean best = isfinite (metric) && (maximise ? metric > st.best_metric : metric < st.best_metric);
      double esec = g_timer_elapsed (et, NULL);
      st.seconds += esec;
      if (best)
        {
          st.best_metric = metric;
          st.best_epoch = epoch;
          st.best_val_loss = ev.loss;
          st.best_val_r = ev.r;
          st.bad_epochs = 0;
          st.seconds_to_best = st.seconds;
          memcpy (best_params, wts, o.n * sizeof (float));
        }
      else
        st.bad_epochs++;
      st.epoch = epoch;
      if ((p->patience > 0 && st.bad_epochs >= p->patience) || epoch >= p->max_epochs)
        st.finished = TRUE;

      g_string_append_printf (st.log, "%d,%" G_GINT64_FORMAT ",", epoch, st.step);
      csv_num (st.log, lr);
      g_string_append_c (st.log, ',');
      csv_num (st.log, loss_acc / pr->steps_per_epoch);
      g_string_append_c (st.log, ',');
      csv_num (st.log, ev.loss);
      g_string_append_c (st.log, ',');
      csv_num (st.log, ev.r);
      g_string_append_c (st.log, ',');
      csv_num (st.log, esec);
      g_string_append_c (st.log, ',');
      csv_num (st.log, (double) pr->steps_per_epoch * B / esec);
      g_string_append_printf (st.log, ",%d\n", best ? 1 : 0);

      /* the best model first, then the checkpoint that refers to it, then the log */
      if (best)
        {
          g_autoptr(JsonNode) training = training_summary (pr, NULL, epoch, st.seconds_to_best, st.log, ev.loss_constant);
          g_autoptr(JsonBuilder) mb = json_builder_new ();
          json_builder_begin_object (mb);
          json_builder_set_member_name (mb, "val_aperture_r");
          json_builder_add_double_value (mb, isfinite (ev.r) ? ev.r : 0.0);
          json_builder_set_member_name (mb, "val_loss");
          json_builder_add_double_value (mb, isfinite (ev.loss) ? ev.loss : 0.0);
          json_builder_set_member_name (mb, "epoch");
          json_builder_add_int_value (mb, epoch);
          json_builder_end_object (mb);
          g_autoptr(JsonNode) metrics = json_builder_get_root (mb);
          if (!save_model (pr, wts, training, metrics, model_path, error))
            {
              ok = FALSE;
              goto out;
            }
        }
      if (!save_checkpoint (ckpt, config, &st, &o, best_params, ema, error))
        {
          ok = FALSE;
          goto out;
        }
      if (log_csv)
        {
          g_autoptr(GBytes) lb = g_bytes_new (st.log->str, st.log->len);
          if (!wkp_write_file_atomic (log_csv, lb, error))
            {
              ok = FALSE;
              goto out;
            }
          log_written = TRUE;
        }
      if (epoch_cb)
        {
          WkpTrainEpoch e = { epoch, p->max_epochs, st.step, lr, loss_acc / pr->steps_per_epoch, ev.loss, ev.r, esec,
                              (double) pr->steps_per_epoch * B / esec,
                              esec * (st.finished ? 0 : p->max_epochs - epoch), best, ev.loss_constant };
          epoch_cb (&e, user_data);
        }
      if (p->stop_after > 0 && epoch >= p->stop_after && !st.finished)
        {
          res.interrupted = TRUE;
          break;
        }
    }

  /* final: test-split numbers of the best weights, recorded in the model */
  if (st.finished && st.best_epoch > 0)
    {
      Eval tv = { NAN, NAN, 0, NAN }, vv = { NAN, NAN, 0, NAN };
      g_autoptr(JsonBuilder) mb = json_builder_new ();
      json_builder_begin_object (mb);
      if (pr->val->len > 0)
        evaluate (pr, best_params, pr->val, &vws, &vws_cap, &vv, NULL);
      json_builder_set_member_name (mb, "val_aperture_r");
      json_builder_add_double_value (mb, isfinite (vv.r) ? vv.r : 0.0);
      json_builder_set_member_name (mb, "val_loss");
      json_builder_add_double_value (mb, isfinite (vv.loss) ? vv.loss : 0.0);
      json_builder_set_member_name (mb, "epoch");
      json_builder_add_int_value (mb, st.best_epoch);
      if (pr->test->len > 0)
        {
          json_builder_set_member_name (mb, "test_clips");
          json_builder_begin_array (mb);
          evaluate (pr, best_params, pr->test, &vws, &vws_cap, &tv, mb);
          json_builder_end_array (mb);
          json_builder_set_member_name (mb, "test_aperture_r");
          json_builder_add_double_value (mb, isfinite (tv.r) ? tv.r : 0.0);
          json_builder_set_member_name (mb, "test_loss");
          json_builder_add_double_value (mb, isfinite (tv.loss) ? tv.loss : 0.0);
          json_builder_set_member_name (mb, "test_frames");
          json_builder_add_int_value (mb, tv.n_frames);
        }
      json_builder_set_member_name (mb, "note");
      json_builder_add_string_value (mb, "aperture r: Pearson, lag 0, pooled over clips, computed by the trainer's "
                                         "own forward pass (internal fps) against the dataset's normalised landmarks");
      json_builder_end_object (mb);
      g_autoptr(JsonNode) metrics = json_builder_get_root (mb);
      res.epochs_run = st.epoch;
      g_autoptr(JsonNode) training = training_summary (pr, &res, st.best_epoch, st.seconds_to_best, st.log, vv.loss_constant);
      if (!save_model (pr, best_params, training, metrics, model_path, error))
        {
          ok = FALSE;
          goto out;
        }
      res.test_r = tv.r;
      if (!isfinite (val_loss_constant))
        val_loss_constant = vv.loss_constant;   /* (resumed from a finished run, no epoch ran: it said nan) */
      /* resumed from a finished run: no epoch ran, the log is the checkpoint's */
      if (log_csv && !log_written)
        {
          g_autoptr(GBytes) lb = g_bytes_new (st.log->str, st.log->len);
          if (!wkp_write_file_atomic (log_csv, lb, error))
            {
              ok = FALSE;
              goto out;
            }
        }
    }
  else if (!res.interrupted)
    {
      /* every epoch's validation was undefined: there is no best model to write */
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_FAILED,
                   "no epoch of %d had a defined validation %s; no model written", st.epoch,
                   maximise ? "aperture r (try --early-stop loss)" : "loss");
      ok = FALSE;
    }

out:
  wkp_net_ws_free_f32 (vws);
  res.epochs_run = st.epoch;
  res.best_epoch = st.best_epoch;
  res.best_val_loss = st.best_val_loss;
  res.val_loss_constant = val_loss_constant;
  res.best_val_r = st.best_val_r;
  res.n_components = pr != NULL ? pr->K : 0;
  res.explained = pr != NULL && pr->pca != NULL ? wkp_pca_explained (pr->pca, pr->K) : NAN;
  res.stopped_early = st.finished && st.epoch < p->max_epochs;
  res.seconds = g_timer_elapsed (timer, NULL);
  if (result)
    *result = res;
  return ok;
}

/* ---- parity dump --------------------------------------------------------------------- */

static gboolean
save_npy (const char *dir, const char *name, WkpDtype dtype, int ndim, const gint64 *shape, gconstpointer v,
          GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return wkp_npy_save (path, dtype, ndim, shape, v, error);
}

static gboolean
save_tensors (const char *dir, const char *prefix, const WkpNetShape *s, const float *params, GError **error)
{
  const int dirs = s->bidirectional ? 2 : 1;
  for (int t = 0; t < wkp_net_n_tensors (s); t++)
    {
      gsize off, size;
      char name[64];
      wkp_net_tensor_info (s, t, &off, &size, name);
      g_autofree char *file = g_strdup_printf ("%s%s.npy", prefix, name);
      gint64 shape[2] = { (gint64) size, 1 };
      int ndim = 1;
      if (g_str_has_prefix (name, "weight_ih"))
        {
          int l = atoi (name + strlen ("weight_ih_l"));
          shape[0] = 4 * s->hidden_size;
          shape[1] = l == 0 ? s->input_size : s->hidden_size * dirs;
          ndim = 2;
        }
      else if (g_str_has_prefix (name, "weight_hh"))
        {
          shape[0] = 4 * s->hidden_size;
          shape[1] = s->hidden_size;
          ndim = 2;
        }
      else if (g_str_equal (name, "head.weight"))
        {
          shape[0] = s->output_size;
          shape[1] = s->hidden_size * dirs;
          ndim = 2;
        }
      if (!save_npy (dir, file, WKP_DTYPE_F32, ndim, shape, params + off, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
wkp_train_parity_dump (const WkpTrainData *data, const WkpTrainParams *params, int n_steps, const char *dir,
                       double *seconds, GError **error)
{
  g_return_val_if_fail (data != NULL && params != NULL && n_steps > 0 && dir != NULL, FALSE);
  /* before the PCA too: its BLAS sums depend on the thread count, and a PCA
   * fitted with the library's default threads differed between two runs in
   * one process (their models could not be ensembled) */
  if (params->n_threads > 0)
    openblas_set_num_threads (params->n_threads);
  g_autoptr(Prep) pr = prep_new (data, params, error);
  if (pr == NULL)
    return FALSE;
  const WkpTrainParams *p = &pr->p;
  const int L = p->window, B = p->batch_size, K = pr->K, in = pr->in_size;
  const gsize xs = (gsize) L * B * in, zs = (gsize) L * B * K, ms = (gsize) L * B;
  Opt o = { 0 };
  o.n = wkp_net_n_params (&pr->shape);
  g_autofree float *params_v = o.params = g_new (float, o.n);
  g_autofree float *grad_v = o.grad = g_new0 (float, o.n);
  g_autofree float *m_v = o.m = g_new0 (float, o.n);
  g_autofree float *v_v = o.v = g_new0 (float, o.n);
  Rng rng;
  rng_seed (&rng, p->seed);
  init_params (&pr->shape, o.params, &rng);
  if (!save_tensors (dir, "init_", &pr->shape, o.params, error))
    return FALSE;

  g_autofree float *X = g_try_new (float, xs * n_steps);
  g_autofree float *Z = g_try_new (float, zs * n_steps);
  g_autofree float *M = g_try_new (float, ms * n_steps);
  g_autofree double *losses = g_new (double, n_steps), *lrs = g_new (double, n_steps);
  g_autofree float *y = g_new (float, zs), *dy = g_new (float, zs);
  g_autofree float *noise = g_new (float, (gsize) (L + 2 * p->context) * pr->D);
  if (X == NULL || Z == NULL || M == NULL)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_FAILED, "out of memory for %d parity steps", n_steps);
      return FALSE;
    }
  for (int i = 0; i < n_steps; i++)
    {
      Batch bt = { X + xs * i, Z + zs * i, M + ms * i, noise };
      make_batch (pr, &rng, &bt);
    }
  const gint64 total_steps = (gint64) p->max_epochs * pr->steps_per_epoch;
  g_autoptr(WkpNetWsF32) ws = wkp_net_ws_new_f32 (&pr->shape, (gint64) L * B);
  g_autoptr(GTimer) timer = g_timer_new ();
  for (int i = 0; i < n_steps; i++)
    {
      wkp_net_forward_f32 (ws, o.params, X + xs * i, L, B, y);
      losses[i] = wkp_net_loss_f32 (y, Z + zs * i, M + ms * i, L, B, K, pr->loss_w, p->velocity_weight, dy);
      wkp_net_backward_f32 (ws, o.params, X + xs * i, dy, o.grad);
      lrs[i] = lr_at (p, o.step + 1, total_steps);
      opt_step (&o, p, lrs[i]);
    }
  if (seconds)
    *seconds = g_timer_elapsed (timer, NULL);

  gint64 sx[4] = { n_steps, L, B, in }, sz[4] = { n_steps, L, B, K }, sm[3] = { n_steps, L, B };
  gint64 sk[1] = { K }, sn[1] = { n_steps };
  if (!save_npy (dir, "x.npy", WKP_DTYPE_F32, 4, sx, X, error) ||
      !save_npy (dir, "z.npy", WKP_DTYPE_F32, 4, sz, Z, error) ||
      !save_npy (dir, "mask.npy", WKP_DTYPE_F32, 3, sm, M, error) ||
      !save_npy (dir, "loss_w.npy", WKP_DTYPE_F32, 1, sk, pr->loss_w, error) ||
      !save_npy (dir, "lr.npy", WKP_DTYPE_F64, 1, sn, lrs, error) ||
      !save_npy (dir, "loss.npy", WKP_DTYPE_F64, 1, sn, losses, error) ||
      !save_tensors (dir, "final_", &pr->shape, o.params, error))
    return FALSE;

  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "input_size");
  json_builder_add_int_value (b, pr->shape.input_size);
  json_builder_set_member_name (b, "hidden_size");
  json_builder_add_int_value (b, pr->shape.hidden_size);
  json_builder_set_member_name (b, "num_layers");
  json_builder_add_int_value (b, pr->shape.num_layers);
  json_builder_set_member_name (b, "bidirectional");
  json_builder_add_boolean_value (b, pr->shape.bidirectional);
  json_builder_set_member_name (b, "output_size");
  json_builder_add_int_value (b, pr->shape.output_size);
  json_builder_set_member_name (b, "params");
  json_builder_add_value (b, wkp_train_params_to_json (p));
  json_builder_set_member_name (b, "c_seconds");
  json_builder_add_double_value (b, seconds ? *seconds : 0.0);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(GBytes) bytes = wkp_json_to_bytes (root);
  g_autofree char *cfg = g_build_filename (dir, "config.json", NULL);
  return wkp_write_file_atomic (cfg, bytes, error);
}
