/* wkp-metrics.c: LMD, LVD, lip-vertex error, aperture correlation and lag.
 * Definitions in wkp-metrics.h. Sums are in double; correlations use
 * running co-moments (Welford) so that long pooled splits lose no precision. */
#include "wkp-metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_XY (WKP_N_LANDMARKS * 2)

typedef struct {
  gint64 n;
  double mx, my, cxx, cyy, cxy;
} Comoment;

static void
comoment_add (Comoment *c, double x, double y)
{
  double dx, dy;
  c->n++;
  dx = x - c->mx;
  c->mx += dx / (double) c->n;
  dy = y - c->my;
  c->my += dy / (double) c->n;
  c->cxx += dx * (x - c->mx);
  c->cyy += dy * (y - c->my);
  c->cxy += dx * (y - c->my);
}

static double
comoment_r (const Comoment *c)
{
  double r;
  if (c->n < 2 || !(c->cxx > 0.0) || !(c->cyy > 0.0))
    return NAN;
  r = c->cxy / sqrt (c->cxx * c->cyy);
  return CLAMP (r, -1.0, 1.0);
}

struct _WkpMetricsAccum {
  int       max_lag;
  Comoment *lag;              /* [2*max_lag+1], index lag+max_lag */
  gint64    n_frames, n_compared, n_ref_missing, n_pred_missing, n_velocity;
  gint64    n_landmark_compared;
  gboolean  aperture_only;    /* some clip had no predicted landmarks */
  double    sum_lmd_mouth, sum_lmd_face, sum_lve;
  double    sum_lvd_mouth, sum_lvd_face;
  double    sum_sq_aperture;
};

static gboolean
face_finite (const float *face)
{
  for (int i = 0; i < N_XY; i++)
    if (!isfinite (face[i]))
      return FALSE;
  return TRUE;
}

gint64
wkp_metrics_normalize_track (const float *points, gint64 n_frames, float *out, double *aperture)
{
  gint64 usable = 0;
  float tmp[N_XY];

  g_return_val_if_fail (n_frames >= 0, 0);
  g_return_val_if_fail (n_frames == 0 || (points != NULL && out != NULL), 0);

  for (gint64 t = 0; t < n_frames; t++)
    {
      const float *in = points + t * N_XY;
      float *dst = out + t * N_XY;
      gboolean ok = face_finite (in);

      if (ok)
        ok = wkp_face_normalize (in, tmp, NULL, NULL) && face_finite (tmp);
      if (ok)
        {
          memcpy (dst, tmp, sizeof tmp);
          usable++;
        }
      else
        for (int i = 0; i < N_XY; i++)
          dst[i] = NAN;
      if (aperture != NULL)
        aperture[t] = ok ? wkp_face_inner_aperture (dst) : NAN;
    }
  return usable;
}

static inline double
point_dist (const float *a, const float *b, int i)
{
  double dx = (double) a[2 * i] - (double) b[2 * i];
  double dy = (double) a[2 * i + 1] - (double) b[2 * i + 1];
  return sqrt (dx * dx + dy * dy);
}

void
wkp_metrics_frame (const float *ref, const float *pred, WkpFrameMetrics *out)
{
  double iod, sum_mouth = 0.0, sum_face = 0.0, max_mouth = 0.0;

  g_return_if_fail (ref != NULL && pred != NULL && out != NULL);

  iod = face_finite (ref) && face_finite (pred) ? wkp_face_interocular (ref) : NAN;
  out->aperture_ref = wkp_face_inner_aperture (ref);
  out->aperture_pred = wkp_face_inner_aperture (pred);
  if (!(iod > 0.0))
    {
      out->lmd_mouth = out->lmd_face = out->lve = NAN;
      return;
    }
  for (int i = 0; i < WKP_N_LANDMARKS; i++)
    {
      double d = point_dist (ref, pred, i);
      sum_face += d;
      if (i >= WKP_MOUTH_FIRST && i < WKP_MOUTH_FIRST + WKP_MOUTH_COUNT)
        {
          sum_mouth += d;
          max_mouth = MAX (max_mouth, d);
        }
    }
  out->lmd_mouth = sum_mouth / WKP_MOUTH_COUNT / iod;
  out->lmd_face = sum_face / WKP_N_LANDMARKS / iod;
  out->lve = max_mouth / iod;
}

WkpMetricsAccum *
wkp_metrics_accum_new (int max_lag)
{
  WkpMetricsAccum *acc;
  g_return_val_if_fail (max_lag >= 0 && max_lag <= 1000, NULL);
  acc = g_new0 (WkpMetricsAccum, 1);
  acc->max_lag = max_lag;
  acc->lag = g_new0 (Comoment, 2 * max_lag + 1);
  return acc;
}

void
wkp_metrics_accum_free (WkpMetricsAccum *acc)
{
  if (acc == NULL)
    return;
  g_free (acc->lag);
  g_free (acc);
}

void
wkp_metrics_accum_reset (WkpMetricsAccum *acc)
{
  int max_lag = acc->max_lag;
  Comoment *lag = acc->lag;
  memset (lag, 0, sizeof (Comoment) * (2 * max_lag + 1));
  memset (acc, 0, sizeof *acc);
  acc->max_lag = max_lag;
  acc->lag = lag;
}

void
wkp_metrics_accum_add_clip (WkpMetricsAccum *acc,
                            const float *ref, const double *ref_aperture,
                            const float *pred, const double *pred_aperture,
                            gint64 n_frames)
{
  g_autofree gboolean *ref_ok = NULL;
  g_autofree gboolean *pred_ok = NULL;

  g_return_if_fail (acc != NULL && n_frames >= 0);
  g_return_if_fail (n_frames == 0 || (ref != NULL && ref_aperture != NULL && pred_aperture != NULL));

  ref_ok = g_new (gboolean, MAX (n_frames, 1));
  pred_ok = g_new (gboolean, MAX (n_frames, 1));
  if (pred == NULL && n_frames > 0)
    acc->aperture_only = TRUE;

  for (gint64 t = 0; t < n_frames; t++)
    {
      ref_ok[t] = isfinite (ref_aperture[t]) && face_finite (ref + t * N_XY)
                  && wkp_face_interocular (ref + t * N_XY) > 0.0;
      pred_ok[t] = isfinite (pred_aperture[t]) && (pred == NULL || face_finite (pred + t * N_XY));
    }

  acc->n_frames += n_frames;
  for (gint64 t = 0; t < n_frames; t++)
    {
      double e;
      if (!ref_ok[t])
        {
          acc->n_ref_missing++;
          continue;
        }
      if (!pred_ok[t])
        {
          acc->n_pred_missing++;
          continue;
        }
      acc->n_compared++;
      e = pred_aperture[t] - ref_aperture[t];
      acc->sum_sq_aperture += e * e;

      if (pred != NULL)
        {
          WkpFrameMetrics fm;
          const float *r1 = ref + t * N_XY, *p1 = pred + t * N_XY;

          wkp_metrics_frame (r1, p1, &fm);
          acc->n_landmark_compared++;
          acc->sum_lmd_mouth += fm.lmd_mouth;
          acc->sum_lmd_face += fm.lmd_face;
          acc->sum_lve += fm.lve;

          if (t > 0 && ref_ok[t - 1] && pred_ok[t - 1])
            {
              const float *r0 = r1 - N_XY, *p0 = p1 - N_XY;
              double iod = wkp_face_interocular (r1), sm = 0.0, sf = 0.0;
              for (int i = 0; i < WKP_N_LANDMARKS; i++)
                {
                  double dx = ((double) r1[2 * i] - r0[2 * i]) - ((double) p1[2 * i] - p0[2 * i]);
                  double dy = ((double) r1[2 * i + 1] - r0[2 * i + 1]) - ((double) p1[2 * i + 1] - p0[2 * i + 1]);
                  double d = sqrt (dx * dx + dy * dy);
                  sf += d;
                  if (i >= WKP_MOUTH_FIRST && i < WKP_MOUTH_FIRST + WKP_MOUTH_COUNT)
                    sm += d;
                }
              acc->sum_lvd_mouth += sm / WKP_MOUTH_COUNT / iod;
              acc->sum_lvd_face += sf / WKP_N_LANDMARKS / iod;
              acc->n_velocity++;
            }
        }
    }

  /* Lagged aperture pairs (ref[t], pred[t+k]) inside this clip. */
  for (int k = -acc->max_lag; k <= acc->max_lag; k++)
    {
      Comoment *c = &acc->lag[k + acc->max_lag];
      for (gint64 t = MAX (0, -k); t < n_frames && t + k < n_frames; t++)
        if (ref_ok[t] && pred_ok[t + k])
          comoment_add (c, ref_aperture[t], pred_aperture[t + k]);
    }
}

void
wkp_metrics_accum_result (const WkpMetricsAccum *acc, WkpMetrics *out)
{
  const Comoment *c0;
  double best = -INFINITY;

  g_return_if_fail (acc != NULL && out != NULL);
  memset (out, 0, sizeof *out);

  c0 = &acc->lag[acc->max_lag];
  out->n_frames = acc->n_frames;
  out->n_compared = acc->n_compared;
  out->n_ref_missing = acc->n_ref_missing;
  out->n_pred_missing = acc->n_pred_missing;
  out->n_velocity = acc->n_velocity;
  out->has_landmarks = !acc->aperture_only;

  if (out->has_landmarks && acc->n_landmark_compared > 0)
    {
      double n = (double) acc->n_landmark_compared;
      out->lmd_mouth = acc->sum_lmd_mouth / n;
      out->lmd_face = acc->sum_lmd_face / n;
      out->lve = acc->sum_lve / n;
    }
  else
    out->lmd_mouth = out->lmd_face = out->lve = NAN;
  if (out->has_landmarks && acc->n_velocity > 0)
    {
      out->lvd_mouth = acc->sum_lvd_mouth / (double) acc->n_velocity;
      out->lvd_face = acc->sum_lvd_face / (double) acc->n_velocity;
    }
  else
    out->lvd_mouth = out->lvd_face = NAN;

  if (acc->n_compared > 0)
    {
      out->aperture_rmse = sqrt (acc->sum_sq_aperture / (double) acc->n_compared);
      out->aperture_ref_mean = c0->mx;
      out->aperture_pred_mean = c0->my;
    }
  else
    out->aperture_rmse = out->aperture_ref_mean = out->aperture_pred_mean = NAN;
  out->aperture_r = comoment_r (c0);
  out->aperture_motion = c0->n >= 2 && c0->cxx > 0.0 ? sqrt (c0->cyy / c0->cxx) : NAN;
  out->aperture_cxx = c0->cxx;
  out->aperture_cyy = c0->cyy;
  out->aperture_cxy = c0->cxy;

  /* Best lag: highest r; ties go to the smaller |lag|, then the earlier one. */
  out->best_lag = 0;
  out->best_lag_r = NAN;
  for (int a = 0; a <= acc->max_lag; a++)
    for (int s = -1; s <= 1; s += 2)
      {
        int k = a * s;
        double r;
        if (a == 0 && s == 1)
          continue;
        r = comoment_r (&acc->lag[k + acc->max_lag]);
        if (isfinite (r) && r > best)
          {
            best = r;
            out->best_lag = k;
            out->best_lag_r = r;
          }
      }
}

void
wkp_metrics_combine (const WkpMetrics *clips, const int *pick, int n_pick,
                     double *lmd_mouth, double *aperture_r, double *aperture_rmse)
{
  Comoment c = { 0 };
  double lmd_sum = 0.0, sq_sum = 0.0;
  gint64 lmd_n = 0;

  for (int k = 0; k < n_pick; k++)
    {
      const WkpMetrics *m = &clips[pick[k]];
      gint64 n;
      double dx, dy, w;

      if (m->n_compared <= 0)
        continue;
      if (isfinite (m->lmd_mouth))
        {
          lmd_sum += m->lmd_mouth * (double) m->n_compared;
          lmd_n += m->n_compared;
        }
      sq_sum += m->aperture_rmse * m->aperture_rmse * (double) m->n_compared;
      /* Chan et al.: merge two sets of co-moments */
      n = c.n + m->n_compared;
      dx = m->aperture_ref_mean - c.mx;
      dy = m->aperture_pred_mean - c.my;
      w = (double) c.n * (double) m->n_compared / (double) n;
      c.cxx += m->aperture_cxx + dx * dx * w;
      c.cyy += m->aperture_cyy + dy * dy * w;
      c.cxy += m->aperture_cxy + dx * dy * w;
      c.mx += dx * (double) m->n_compared / (double) n;
      c.my += dy * (double) m->n_compared / (double) n;
      c.n = n;
    }
  if (lmd_mouth != NULL)
    *lmd_mouth = lmd_n > 0 ? lmd_sum / (double) lmd_n : NAN;
  if (aperture_r != NULL)
    *aperture_r = comoment_r (&c);
  if (aperture_rmse != NULL)
    *aperture_rmse = c.n > 0 ? sqrt (sq_sum / (double) c.n) : NAN;
}

void
wkp_metrics_compare_tracks (const float *ref_points, const float *pred_points,
                            gint64 n_frames, int max_lag, WkpMetrics *out)
{
  g_autofree float *ref = NULL, *pred = NULL;
  g_autofree double *ref_ap = NULL, *pred_ap = NULL;
  g_autoptr(WkpMetricsAccum) acc = NULL;
  gsize n = (gsize) MAX (n_frames, 1);

  g_return_if_fail (n_frames >= 0 && out != NULL);
  ref = g_new (float, n * N_XY);
  pred = g_new (float, n * N_XY);
  ref_ap = g_new (double, n);
  pred_ap = g_new (double, n);
  wkp_metrics_normalize_track (ref_points, n_frames, ref, ref_ap);
  wkp_metrics_normalize_track (pred_points, n_frames, pred, pred_ap);
  acc = wkp_metrics_accum_new (max_lag);
  wkp_metrics_accum_add_clip (acc, ref, ref_ap, pred, pred_ap, n_frames);
  wkp_metrics_accum_result (acc, out);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

void
wkp_metrics_sort (double *v, gsize n)
{
  qsort (v, n, sizeof (double), compare_doubles);
}

double
wkp_metrics_pearson (const double *x, const double *y, gint64 n)
{
  Comoment c = { 0 };
  for (gint64 i = 0; i < n; i++)
    if (isfinite (x[i]) && isfinite (y[i]))
      comoment_add (&c, x[i], y[i]);
  return comoment_r (&c);
}

void
wkp_metrics_energy_envelope (const float *audio, gint64 n_samples, int rate,
                             WkpRational fps, gint64 n_frames, double *out)
{
  g_return_if_fail (rate > 0 && wkp_rational_is_valid (fps) && n_frames >= 0);
  g_return_if_fail (n_frames == 0 || out != NULL);

  for (gint64 i = 0; i < n_frames; i++)
    {
      gint64 s0 = wkp_frame_to_sample (i, fps, rate);
      gint64 s1 = MIN (wkp_frame_to_sample (i + 1, fps, rate), n_samples);
      double sum = 0.0, db;

      if (s0 >= s1 || audio == NULL)
        {
          out[i] = -100.0;
          continue;
        }
      for (gint64 s = s0; s < s1; s++)
        sum += (double) audio[s] * (double) audio[s];
      db = 10.0 * log10 (sum / (double) (s1 - s0) + 1e-10);
      out[i] = MAX (db, -100.0);
    }
}

gboolean
wkp_metrics_linear_fit (const double *x, const double *y, gint64 n,
                        double *slope, double *intercept, GError **error)
{
  Comoment c = { 0 };
  for (gint64 i = 0; i < n; i++)
    if (isfinite (x[i]) && isfinite (y[i]))
      comoment_add (&c, x[i], y[i]);
  if (c.n < 2 || !(c.cxx > 0.0))
    {
      g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                   "Cannot fit a line: %" G_GINT64_FORMAT " usable pairs%s",
                   c.n, c.n >= 2 ? " and a constant input" : "");
      return FALSE;
    }
  *slope = c.cxy / c.cxx;
  *intercept = c.my - *slope * c.mx;
  return TRUE;
}
