/* wkp-features.c: MFCC / log-mel rows aligned to video frames.
 *
 * Pipeline per sub-frame: pre-emphasis of the signal (x[-1] = 0; computed
 * inside each window, never as a copy of the whole signal) -> periodic Hann
 * window of window_ms centred on the sub-frame centre, zero-padded outside
 * the audio -> real FFT of n_fft points (libavutil av_tx) -> power spectrum ->
 * triangular mel filterbank (HTK mel scale, unit peak) -> natural log (floor
 * 1e-10) -> [MFCC: orthonormal DCT-II, first n_mfcc] -> deltas along the
 * sub-frame sequence.
 */
#include "wkp-features.h"
#include "wkp-error.h"
#include "wkp-io.h"

#include <libavutil/mem.h>
#include <libavutil/tx.h>
#include <math.h>
#include <string.h>

#define LOG_FLOOR 1e-10

void
wkp_feature_config_init_default (WkpFeatureConfig *c)
{
  c->kind = WKP_FEATURE_MFCC;
  c->sample_rate = 16000;
  c->subframes = 4;
  c->window_ms = 25.0;
  c->n_fft = 512;
  c->n_mels = 40;
  c->n_mfcc = 13;
  c->fmin = 20.0;
  c->fmax = 7600.0;
  c->preemphasis = 0.97;
  c->deltas = 2;
  c->delta_width = 2;
}

int
wkp_feature_config_coeffs (const WkpFeatureConfig *c)
{
  return c->kind == WKP_FEATURE_MFCC ? c->n_mfcc : c->n_mels;
}

int
wkp_feature_config_dim (const WkpFeatureConfig *c)
{
  return c->subframes * wkp_feature_config_coeffs (c) * (1 + c->deltas);
}

static int
window_samples (const WkpFeatureConfig *c)
{
  /* clamped: a window of 1e12 ms must not wrap around to a small count */
  double w = c->window_ms * c->sample_rate / 1000.0;
  return isnan (w) ? -1 : (int) lround (CLAMP (w, -1.0, 1e9));
}

gboolean
wkp_feature_config_validate (const WkpFeatureConfig *c, GError **error)
{
  const char *bad = NULL;
  int w = window_samples (c);

  if (c->kind != WKP_FEATURE_MFCC && c->kind != WKP_FEATURE_LOGMEL)
    bad = "kind must be mfcc or logmel";
  else if (c->sample_rate < 4000 || c->sample_rate > 192000)
    bad = "sample_rate must be between 4000 and 192000 Hz";
  else if (c->subframes < 1 || c->subframes > 32)
    bad = "subframes must be between 1 and 32";
  else if (c->n_fft < 64 || c->n_fft > 16384 || (c->n_fft & (c->n_fft - 1)) != 0)
    bad = "n_fft must be a power of two between 64 and 16384";
  else if (!(c->window_ms > 0) || w < 16)
    bad = "window_ms must give at least 16 samples";
  else if (w > c->n_fft)
    {
      int need = 64;
      while (need < w && need < 16384)
        need *= 2;
      if (need < w)
        g_set_error (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID,
                     "Invalid feature configuration: window_ms %g is longer than the largest FFT (16384 samples, "
                     "%.0f ms at %d Hz)", c->window_ms, 16384 * 1000.0 / c->sample_rate, c->sample_rate);
      else
        g_set_error (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID,
                     "Invalid feature configuration: window_ms %g gives %d samples at %d Hz, more than n_fft %d; "
                     "use an n_fft of %d (a power of two at least as long as the window)",
                     c->window_ms, w, c->sample_rate, c->n_fft, need);
      return FALSE;
    }
  else if (c->n_mels < 1 || c->n_mels > 512)
    bad = "n_mels must be between 1 and 512";
  else if (c->kind == WKP_FEATURE_MFCC && (c->n_mfcc < 1 || c->n_mfcc > c->n_mels))
    bad = "n_mfcc must be between 1 and n_mels";
  else if (!(c->fmin >= 0) || !(c->fmax > c->fmin) || c->fmax > c->sample_rate / 2.0)
    bad = "need 0 <= fmin < fmax <= sample_rate/2";
  else if (!(c->preemphasis >= 0) || !(c->preemphasis < 1))
    bad = "preemphasis must be in [0, 1)";
  else if (c->deltas < 0 || c->deltas > 2)
    bad = "deltas must be 0, 1 or 2";
  else if (c->delta_width < 1 || c->delta_width > 10)
    bad = "delta_width must be between 1 and 10";
  if (bad != NULL)
    {
      g_set_error (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID, "Invalid feature configuration: %s", bad);
      return FALSE;
    }
  return TRUE;
}

/* The row layout of these features, in words. Keys (cache, resume) were made
 * with one fixed text, which said "[coeffs, delta, delta-delta]" whatever
 * the deltas; the stored description says the true layout, while the keys
 * keep the old text so that no prepared clip or checkpoint changes identity. */
static const char *const ROW_LAYOUT_KEY_TEXT = "per video frame: for each sub-frame [coeffs, delta, delta-delta]";

static char *
row_layout_text (const WkpFeatureConfig *c)
{
  const char *what = c->kind == WKP_FEATURE_MFCC ? "coeffs" : "log-mel bands";
  return g_strdup_printf ("per video frame: for each sub-frame [%s%s]", what,
                          c->deltas >= 2 ? ", delta, delta-delta" : c->deltas == 1 ? ", delta" : "");
}

static JsonNode *
feature_config_json (const WkpFeatureConfig *c, gboolean for_key)
{
  g_autofree char *layout = for_key ? g_strdup (ROW_LAYOUT_KEY_TEXT) : row_layout_text (c);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
#define ADD_INT(name) json_builder_set_member_name (b, #name); json_builder_add_int_value (b, c->name)
#define ADD_DBL(name) json_builder_set_member_name (b, #name); json_builder_add_double_value (b, c->name)
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, c->kind == WKP_FEATURE_MFCC ? "mfcc" : "logmel");
  ADD_INT (sample_rate);
  ADD_INT (subframes);
  ADD_DBL (window_ms);
  ADD_INT (n_fft);
  ADD_INT (n_mels);
  ADD_INT (n_mfcc);
  ADD_DBL (fmin);
  ADD_DBL (fmax);
  ADD_DBL (preemphasis);
  ADD_INT (deltas);
  ADD_INT (delta_width);
#undef ADD_INT
#undef ADD_DBL
  json_builder_set_member_name (b, "dim");
  json_builder_add_int_value (b, wkp_feature_config_dim (c));
  json_builder_set_member_name (b, "window");
  json_builder_add_string_value (b, "hann-periodic");
  json_builder_set_member_name (b, "mel_scale");
  json_builder_add_string_value (b, "htk");
  json_builder_set_member_name (b, "log_floor");
  json_builder_add_double_value (b, LOG_FLOOR);
  json_builder_set_member_name (b, "row_layout");
  json_builder_add_string_value (b, layout);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
wkp_feature_config_to_json (const WkpFeatureConfig *c)
{
  return feature_config_json (c, FALSE);
}

JsonNode *
wkp_feature_config_to_key_json (const WkpFeatureConfig *c)
{
  return feature_config_json (c, TRUE);
}

gboolean
wkp_feature_config_from_json (JsonNode *node, WkpFeatureConfig *c, GError **error)
{
  JsonObject *o;
  const char *kind;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID, "Feature configuration is not a JSON object");
      return FALSE;
    }
  o = json_node_get_object (node);
  wkp_feature_config_init_default (c);
  /* every member present must have its type: a hand-edited header with, say,
   * "delta_width": [2, 2] is refused by name, not read as the default */
  {
    JsonNode *k = json_object_get_member (o, "kind");
    if (k != NULL && (!JSON_NODE_HOLDS_VALUE (k) || json_node_get_value_type (k) != G_TYPE_STRING))
      {
        g_set_error_literal (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID, "“kind” is not a string");
        return FALSE;
      }
    kind = k != NULL ? json_node_get_string (k) : "mfcc";
  }
  if (g_strcmp0 (kind, "mfcc") == 0)
    c->kind = WKP_FEATURE_MFCC;
  else if (g_strcmp0 (kind, "logmel") == 0)
    c->kind = WKP_FEATURE_LOGMEL;
  else
    {
      g_set_error (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID, "Unknown feature kind “%s”", kind);
      return FALSE;
    }
  /* as_int: 1 for integer fields, 0 for real ones */
#define GET(name, as_int)                                                                           \
  do {                                                                                              \
    JsonNode *n = json_object_get_member (o, #name);                                                \
    if (n == NULL)                                                                                  \
      break;                                                                                        \
    if (as_int ? !wkp_json_node_is_integer (n, G_MININT, G_MAXINT) : !wkp_json_node_is_number (n))  \
      {                                                                                             \
        g_set_error (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID, "“%s” is not %s", #name,         \
                     as_int ? "an integer" : "a number");                                          \
        return FALSE;                                                                               \
      }                                                                                             \
    c->name = as_int ? (int) json_node_get_int (n) : wkp_json_node_get_number (n);                  \
  } while (0)
  GET (sample_rate, 1);
  GET (subframes, 1);
  GET (window_ms, 0);
  GET (n_fft, 1);
  GET (n_mels, 1);
  GET (n_mfcc, 1);
  GET (fmin, 0);
  GET (fmax, 0);
  GET (preemphasis, 0);
  GET (deltas, 1);
  GET (delta_width, 1);
#undef GET
  return wkp_feature_config_validate (c, error);
}

gboolean
wkp_feature_config_equal (const WkpFeatureConfig *a, const WkpFeatureConfig *b, const char *a_name,
                          const char *b_name, char **diff)
{
  g_autoptr(GString) s = g_string_new (NULL);
  const char *an = a_name ? a_name : "first";
  const char *bn = b_name ? b_name : "second";

#define CMP_INT(name)                                                                              \
  if (a->name != b->name)                                                                          \
    g_string_append_printf (s, "%s%s: %s has %d, %s have %d", s->len ? "; " : "", #name, an,      \
                            (int) a->name, bn, (int) b->name);
#define CMP_DBL(name)                                                                              \
  if (fabs (a->name - b->name) > 1e-9 * MAX (1.0, fabs (a->name)))                                  \
    g_string_append_printf (s, "%s%s: %s has %g, %s have %g", s->len ? "; " : "", #name, an,      \
                            a->name, bn, b->name);
  if (a->kind != b->kind)
    g_string_append_printf (s, "kind: %s has %s, %s have %s", an, a->kind == WKP_FEATURE_MFCC ? "mfcc" : "logmel",
                            bn, b->kind == WKP_FEATURE_MFCC ? "mfcc" : "logmel");
  CMP_INT (sample_rate);
  CMP_INT (subframes);
  CMP_DBL (window_ms);
  CMP_INT (n_fft);
  CMP_INT (n_mels);
  if (a->kind == WKP_FEATURE_MFCC && b->kind == WKP_FEATURE_MFCC)
    CMP_INT (n_mfcc);
  CMP_DBL (fmin);
  CMP_DBL (fmax);
  CMP_DBL (preemphasis);
  CMP_INT (deltas);
  if (a->deltas > 0 || b->deltas > 0)
    CMP_INT (delta_width);
#undef CMP_INT
#undef CMP_DBL
  if (s->len == 0)
    return TRUE;
  if (diff != NULL)
    *diff = g_strdup (s->str);
  return FALSE;
}

char *
wkp_feature_config_hash (const WkpFeatureConfig *c)
{
  g_autoptr(JsonNode) node = wkp_feature_config_to_key_json (c);
  g_autofree char *text = wkp_json_to_string (node, FALSE);
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  return g_strndup (sum, 16);
}

/* ------------------------------------------------------------------------ */

static double
hz_to_mel (double hz)
{
  return 2595.0 * log10 (1.0 + hz / 700.0);
}

static double
mel_to_hz (double mel)
{
  return 700.0 * (pow (10.0, mel / 2595.0) - 1.0);
}

/* Edge @m of the n_mels + 2 equally spaced points on the mel scale between
 * fmin and fmax: filter m rises from edge m, peaks at edge m + 1 (its
 * centre) and falls to edge m + 2. */
static double
band_edge_hz (const WkpFeatureConfig *c, int m)
{
  double mel_lo = hz_to_mel (c->fmin), mel_hi = hz_to_mel (c->fmax);
  return mel_to_hz (mel_lo + (mel_hi - mel_lo) * m / (c->n_mels + 1));
}

/* Orthonormal DCT-II coefficient (row @q, column @m of @n), as
 * scipy.fft.dct (type=2, norm='ortho'). */
static double
dct_coef (int q, int m, int n)
{
  return (q == 0 ? sqrt (1.0 / n) : sqrt (2.0 / n)) * cos (G_PI * q * (2 * m + 1) / (2.0 * n));
}

typedef struct {
  int    first;     /* first FFT bin with a non-zero weight */
  int    count;
  float *weights;
} MelFilter;

typedef struct {
  const WkpFeatureConfig *c;
  int          win;
  int          n_bins;
  float       *window;
  MelFilter   *filters;
  float       *dct;      /* [n_mfcc, n_mels] */
  AVTXContext *tx;
  av_tx_fn     tx_fn;
  float       *tx_in;    /* av_malloc'ed, aligned */
  float       *tx_out;   /* n_fft + 2 floats (n/2+1 complex) */
  float       *power;
  float       *mel;
} Analyzer;

static void
analyzer_clear (Analyzer *a)
{
  if (a->filters != NULL)
    for (int m = 0; m < a->c->n_mels; m++)
      g_free (a->filters[m].weights);
  g_free (a->filters);
  g_free (a->window);
  g_free (a->dct);
  g_free (a->power);
  g_free (a->mel);
  av_free (a->tx_in);
  av_free (a->tx_out);
  av_tx_uninit (&a->tx);
}

static gboolean
analyzer_init (Analyzer *a, const WkpFeatureConfig *c, GError **error)
{
  float scale = 1.0f;
  double *hz;
  int ret;

  memset (a, 0, sizeof *a);
  a->c = c;
  a->win = window_samples (c);
  a->n_bins = c->n_fft / 2 + 1;

  ret = av_tx_init (&a->tx, &a->tx_fn, AV_TX_FLOAT_RDFT, 0, c->n_fft, &scale, 0);
  if (ret < 0)
    {
      g_set_error (error, WKP_FEATURES_ERROR, WKP_ERROR_FAILED, "Cannot set up an FFT of %d points", c->n_fft);
      return FALSE;
    }
  a->tx_in = av_mallocz ((c->n_fft + 2) * sizeof (float));
  a->tx_out = av_mallocz ((c->n_fft + 2) * sizeof (float));
  a->power = g_new0 (float, a->n_bins);
  a->mel = g_new0 (float, c->n_mels);

  /* periodic Hann, as scipy.signal.get_window ('hann', win) */
  a->window = g_new (float, a->win);
  for (int i = 0; i < a->win; i++)
    a->window[i] = (float) (0.5 - 0.5 * cos (2.0 * G_PI * i / a->win));

  /* triangular filters on the continuous bin frequencies (HTK mel, peak 1) */
  hz = g_new (double, c->n_mels + 2);
  for (int m = 0; m < c->n_mels + 2; m++)
    hz[m] = band_edge_hz (c, m);
  a->filters = g_new0 (MelFilter, c->n_mels);
  for (int m = 0; m < c->n_mels; m++)
    {
      double lo = hz[m], mid = hz[m + 1], hi = hz[m + 2];
      int first = -1, last = -1;
      for (int k = 0; k < a->n_bins; k++)
        {
          double f = (double) k * c->sample_rate / c->n_fft;
          if (f > lo && f < hi)
            {
              if (first < 0)
                first = k;
              last = k;
            }
        }
      if (first < 0)
        continue;  /* a filter narrower than a bin: stays zero */
      a->filters[m].first = first;
      a->filters[m].count = last - first + 1;
      a->filters[m].weights = g_new (float, a->filters[m].count);
      for (int k = first; k <= last; k++)
        {
          double f = (double) k * c->sample_rate / c->n_fft;
          double w = f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
          a->filters[m].weights[k - first] = (float) MAX (w, 0.0);
        }
    }
  g_free (hz);

  if (c->kind == WKP_FEATURE_MFCC)
    {
      a->dct = g_new (float, c->n_mfcc * c->n_mels);
      for (int q = 0; q < c->n_mfcc; q++)
        for (int m = 0; m < c->n_mels; m++)
          a->dct[q * c->n_mels + m] = (float) dct_coef (q, m, c->n_mels);
    }
  return TRUE;
}

/* Coefficients of the window starting at @start (may be negative) of
 * @audio [n] into @out. The pre-emphasis y[s] = x[s] - a x[s-1] (x[-1] = 0)
 * is applied here, window by window, with the arithmetic it had over a
 * pre-emphasised copy of the whole signal (bit for bit the same features):
 * that copy doubled the memory of an hour of audio. */
static void
analyze (Analyzer *a, const float *audio, gint64 n, gint64 start, float *out)
{
  const WkpFeatureConfig *c = a->c;
  const AVComplexFloat *spec;

  memset (a->tx_in, 0, (c->n_fft + 2) * sizeof (float));
  for (int i = 0; i < a->win; i++)
    {
      gint64 s = start + i;
      if (s >= 0 && s < n)
        {
          /* samples are nominally in [-1, 1]: clip garbage (huge or NaN
           * float samples) so the power spectrum cannot overflow */
          float v = (float) (audio[s] - (s > 0 ? c->preemphasis * audio[s - 1] : 0.0));
          if (!(v >= -1e4f && v <= 1e4f))
            v = isnan (v) ? 0.0f : v > 0 ? 1e4f : -1e4f;
          a->tx_in[i] = v * a->window[i];
        }
    }
  a->tx_fn (a->tx, a->tx_out, a->tx_in, sizeof (float));
  spec = (const AVComplexFloat *) a->tx_out;
  for (int k = 0; k < a->n_bins; k++)
    a->power[k] = spec[k].re * spec[k].re + spec[k].im * spec[k].im;
  for (int m = 0; m < c->n_mels; m++)
    {
      const MelFilter *f = &a->filters[m];
      double acc = 0;
      for (int k = 0; k < f->count; k++)
        acc += (double) f->weights[k] * a->power[f->first + k];
      a->mel[m] = (float) log (MAX (acc, LOG_FLOOR));
    }
  if (c->kind == WKP_FEATURE_LOGMEL)
    memcpy (out, a->mel, c->n_mels * sizeof (float));
  else
    for (int q = 0; q < c->n_mfcc; q++)
      {
        const float *row = a->dct + q * c->n_mels;
        double acc = 0;
        for (int m = 0; m < c->n_mels; m++)
          acc += (double) row[m] * a->mel[m];
        out[q] = (float) acc;
      }
}

/* Regression deltas along the sequence @in [n, stride] (columns 0..k-1),
 * written to @out with the same stride; indices clamped at the edges. */
static void
deltas (const float *in, float *out, gint64 n, int k, int stride, int width)
{
  double denom = 0;
  for (int d = 1; d <= width; d++)
    denom += 2.0 * d * d;
  for (gint64 t = 0; t < n; t++)
    for (int j = 0; j < k; j++)
      {
        double acc = 0;
        for (int d = 1; d <= width; d++)
          {
            gint64 hi = MIN (t + d, n - 1), lo = MAX (t - d, 0);
            acc += d * ((double) in[hi * stride + j] - (double) in[lo * stride + j]);
          }
        out[t * stride + j] = (float) (acc / denom);
      }
}

float *
wkp_features_compute (const WkpFeatureConfig *c, const float *audio, gint64 n_samples, WkpRational fps,
                      gint64 n_frames, GError **error)
{
  Analyzer a;
  WkpRational sub_rate;
  int k, per_sub, dim;
  gint64 n_sub;
  float *seq, *rows;

  g_return_val_if_fail (c != NULL, NULL);
  if (!wkp_feature_config_validate (c, error))
    return NULL;
  if (!wkp_rational_is_valid (fps))
    {
      g_set_error (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID, "Invalid frame rate %d/%d", fps.num, fps.den);
      return NULL;
    }
  if (n_frames < 0 || n_samples < 0 || (n_samples > 0 && audio == NULL))
    {
      g_set_error_literal (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID, "Invalid audio or frame count");
      return NULL;
    }
  if (fps.num > G_MAXINT32 / c->subframes)
    {
      g_set_error_literal (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID, "Frame rate too high");
      return NULL;
    }

  k = wkp_feature_config_coeffs (c);
  per_sub = k * (1 + c->deltas);
  dim = c->subframes * per_sub;
  n_sub = n_frames * c->subframes;
  rows = g_new0 (float, MAX (n_frames * dim, 1));
  if (n_frames == 0)
    return rows;

  if (!analyzer_init (&a, c, error))
    {
      g_free (rows);
      return NULL;
    }

  /* coefficients of every sub-frame, then deltas, laid out [n_sub, per_sub] */
  seq = rows;  /* sub-frames of frame i are consecutive: [n_sub, per_sub] is [n_frames, dim] */
  sub_rate = WKP_RATIONAL (fps.num * c->subframes, fps.den);
  for (gint64 s = 0; s < n_sub; s++)
    {
      gint64 a0 = wkp_frame_to_sample (s, sub_rate, c->sample_rate);
      gint64 a1 = wkp_frame_to_sample (s + 1, sub_rate, c->sample_rate);
      gint64 centre = (a0 + a1) / 2;
      analyze (&a, audio, n_samples, centre - a.win / 2, seq + s * per_sub);
    }
  if (c->deltas >= 1)
    deltas (seq, seq + k, n_sub, k, per_sub, c->delta_width);
  if (c->deltas >= 2)
    deltas (seq + k, seq + 2 * k, n_sub, k, per_sub, c->delta_width);

  analyzer_clear (&a);
  return rows;
}

/* ------------------------------------------------------------------------ */

double *
wkp_features_warp_matrix (const WkpFeatureConfig *c, double alpha)
{
  const int M = c->n_mels, Q = wkp_feature_config_coeffs (c);
  const double mel_lo = hz_to_mel (c->fmin), mel_hi = hz_to_mel (c->fmax);
  g_autofree double *W = NULL, *dct = NULL;
  double *out;

  if (!(alpha > 0.5 && alpha < 2.0) || M < 1)
    return NULL;
  /* W [M, M]: band m of the warped envelope reads the original envelope at
   * the band position of (centre of m) / alpha */
  W = g_new0 (double, (gsize) M * M);
  for (int m = 0; m < M; m++)
    {
      double centre = band_edge_hz (c, m + 1);
      double pos = (hz_to_mel (centre / alpha) - mel_lo) / (mel_hi - mel_lo) * (M + 1) - 1.0;
      pos = CLAMP (pos, 0.0, (double) (M - 1));
      int lo = MIN ((int) floor (pos), M - 1), hi = MIN (lo + 1, M - 1);
      double w = pos - lo;
      W[(gsize) m * M + lo] += 1.0 - w;
      W[(gsize) m * M + hi] += w;
    }
  if (c->kind != WKP_FEATURE_MFCC)
    return g_steal_pointer (&W);

  /* MFCC: D W D^T with the orthonormal DCT-II rows D [Q, M] of the features */
  dct = g_new (double, (gsize) Q * M);
  for (int q = 0; q < Q; q++)
    for (int m = 0; m < M; m++)
      dct[(gsize) q * M + m] = dct_coef (q, m, M);
  out = g_new0 (double, (gsize) Q * Q);
  for (int a = 0; a < Q; a++)
    for (int m = 0; m < M; m++)
      {
        /* out[a, b] = sum over m, k of D[a, m] W[m, k] D[b, k] */
        for (int k = 0; k < M; k++)
          {
            double dw = dct[(gsize) a * M + m] * W[(gsize) m * M + k];
            if (dw == 0.0)
              continue;
            for (int b = 0; b < Q; b++)
              out[(gsize) a * Q + b] += dw * dct[(gsize) b * M + k];
          }
      }
  return out;
}

void
wkp_features_warp_rows (const WkpFeatureConfig *c, const double *matrix, float *rows, gint64 n_rows)
{
  const int Q = wkp_feature_config_coeffs (c), dim = wkp_feature_config_dim (c);
  double tmp[512];

  g_return_if_fail (Q <= (int) G_N_ELEMENTS (tmp));
  for (gint64 t = 0; t < n_rows; t++)
    for (int off = 0; off + Q <= dim; off += Q)
      {
        float *v = rows + t * dim + off;
        for (int a = 0; a < Q; a++)
          {
            double s = 0.0;
            for (int b = 0; b < Q; b++)
              s += matrix[(gsize) a * Q + b] * v[b];
            tmp[a] = s;
          }
        for (int a = 0; a < Q; a++)
          v[a] = (float) tmp[a];
      }
}
