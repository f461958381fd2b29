/* wkp-face.c: 68-point face geometry, similarity (Procrustes) alignment and
 * head-pose normalisation.
 *
 * The canonical face is the mean shape of dlib's 68-point shape predictor
 * (the `initial_shape` stored at the start of
 * shape_predictor_68_face_landmarks.dat), moved into the canonical frame
 * described in wkp-face.h: origin at the midpoint of the outer eye corners
 * 36 and 45, eyes on the x axis, inter-ocular distance 1, y down.
 */
#include "wkp-face.h"

#include <math.h>

static const float canonical_face[WKP_N_LANDMARKS * 2] = {
  -0.822252f, 0.011145f, -0.816695f, 0.228656f, -0.793426f, 0.445321f, -0.748262f, 0.657788f,
  -0.663546f, 0.855112f, -0.533445f, 1.026237f, -0.374283f, 1.169015f, -0.198691f, 1.283667f,
  -0.000032f, 1.317733f, 0.198630f, 1.283664f, 0.374226f, 1.169015f, 0.533387f, 1.026242f,
  0.663500f, 0.855116f, 0.748227f, 0.657793f, 0.793394f, 0.445327f, 0.816667f, 0.228659f,
  0.822228f, 0.011143f, -0.665451f, -0.147934f, -0.563534f, -0.239705f, -0.419684f, -0.267056f,
  -0.270722f, -0.245835f, -0.131252f, -0.187853f, 0.131261f, -0.187859f, 0.270732f, -0.245841f,
  0.419696f, -0.267060f, 0.563549f, -0.239710f, 0.665468f, -0.147933f, 0.000002f, -0.017515f,
  -0.000005f, 0.122607f, -0.000007f, 0.261492f, -0.000015f, 0.404433f, -0.166895f, 0.501089f,
  -0.086747f, 0.530602f, -0.000012f, 0.555815f, 0.086728f, 0.530606f, 0.166882f, 0.501097f,
  -0.500000f, 0.000000f, -0.411096f, -0.051119f, -0.304319f, -0.049615f, -0.210806f, 0.020956f,
  -0.310916f, 0.038804f, -0.417215f, 0.037400f, 0.210812f, 0.020950f, 0.304325f, -0.049620f,
  0.411099f, -0.051124f, 0.500000f, 0.000000f, 0.417214f, 0.037396f, 0.310919f, 0.038801f,
  -0.319611f, 0.761047f, -0.201978f, 0.714020f, -0.082953f, 0.689648f, -0.000012f, 0.710162f,
  0.082935f, 0.689659f, 0.201957f, 0.714034f, 0.319593f, 0.761047f, 0.205751f, 0.875978f,
  0.090103f, 0.926848f, -0.000013f, 0.936457f, -0.090130f, 0.926839f, -0.205773f, 0.875969f,
  -0.270537f, 0.767261f, -0.084007f, 0.758982f, -0.000013f, 0.767904f, 0.083988f, 0.758990f,
  0.270515f, 0.767264f, 0.085621f, 0.821450f, -0.000009f, 0.831783f, -0.085637f, 0.821442f,
};

/* Eye corners and the nose: the points that move with the head but not with
 * speech (the jaw and lips do, the brows move with expression). */
static const int stable_points[] = {
  27, 28, 29, 30, 31, 32, 33, 34, 35,   /* nose bridge and base */
  36, 39, 42, 45,                       /* eye corners */
};

const float *
wkp_face_canonical (void)
{
  return canonical_face;
}

const int *
wkp_face_stable_points (int *n)
{
  if (n != NULL)
    *n = (int) G_N_ELEMENTS (stable_points);
  return stable_points;
}

/* Checks that the selected points are finite and span a 2-D region (or, for
 * exactly two points, are distinct). On success @mean receives the centroid. */
static gboolean
check_points (const float *pts, const int *idx, int n, const char *what, double mean[2], GError **error)
{
  double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;

  for (int k = 0; k < n; k++)
    {
      int i = idx != NULL ? idx[k] : k;
      double x = pts[2 * i], y = pts[2 * i + 1];
      if (!isfinite (x) || !isfinite (y))
        {
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                       "Cannot align faces: %s point %d is not a finite number", what, i);
          return FALSE;
        }
      mx += x;
      my += y;
    }
  mx /= n;
  my /= n;
  for (int k = 0; k < n; k++)
    {
      int i = idx != NULL ? idx[k] : k;
      double dx = pts[2 * i] - mx, dy = pts[2 * i + 1] - my;
      sxx += dx * dx;
      syy += dy * dy;
      sxy += dx * dy;
    }
  /* Eigenvalues of the 2x2 scatter matrix: the spread along the main axis and
   * across it. Coincident points have no spread at all; collinear points
   * (n >= 3) none across. Thresholds are relative to the point magnitudes so
   * that pixel and canonical units behave alike. */
  double tr = sxx + syy;
  double det = sxx * syy - sxy * sxy;
  double disc = sqrt (MAX (0.0, tr * tr / 4 - det));
  double lmax = tr / 2 + disc, lmin = tr / 2 - disc;
  double scale = 0;
  for (int k = 0; k < n; k++)
    {
      int i = idx != NULL ? idx[k] : k;
      scale = MAX (scale, fabs (pts[2 * i]));
      scale = MAX (scale, fabs (pts[2 * i + 1]));
    }
  if (!(lmax > n * 1e-10 * MAX (scale * scale, 1e-30)))
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                   "Cannot align faces: the %s points all coincide", what);
      return FALSE;
    }
  if (n >= 3 && lmin <= 1e-8 * lmax)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                   "Cannot align faces: the %s points are collinear", what);
      return FALSE;
    }
  mean[0] = mx;
  mean[1] = my;
  return TRUE;
}

gboolean
wkp_similarity_fit (const float *src, const float *dst, const int *idx, int n_idx,
                    WkpSimilarity *out, GError **error)
{
  double ms[2], md[2];
  double spp = 0, sa = 0, sb = 0;
  int n = idx != NULL ? n_idx : WKP_N_LANDMARKS;

  g_return_val_if_fail (src != NULL && dst != NULL && out != NULL, FALSE);
  if (n < 2)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                   "Cannot align faces: %d point(s) given, at least 2 are needed", n);
      return FALSE;
    }
  if (!check_points (src, idx, n, "source", ms, error) ||
      !check_points (dst, idx, n, "target", md, error))
    return FALSE;

  /* Closed-form 2-D least squares: with centred p (source) and q (target),
   * a = sum(p.q) / sum|p|^2 and b = sum(p x q) / sum|p|^2; a pure rotation +
   * scale, so never a reflection. */
  for (int k = 0; k < n; k++)
    {
      int i = idx != NULL ? idx[k] : k;
      double px = src[2 * i] - ms[0], py = src[2 * i + 1] - ms[1];
      double qx = dst[2 * i] - md[0], qy = dst[2 * i + 1] - md[1];
      spp += px * px + py * py;
      sa += px * qx + py * qy;
      sb += px * qy - py * qx;
    }
  out->a = sa / spp;
  out->b = sb / spp;
  out->tx = md[0] - (out->a * ms[0] - out->b * ms[1]);
  out->ty = md[1] - (out->b * ms[0] + out->a * ms[1]);
  return TRUE;
}

void
wkp_similarity_apply (const WkpSimilarity *t, const float *in, float *out, int n_points)
{
  for (int i = 0; i < n_points; i++)
    {
      double x = in[2 * i], y = in[2 * i + 1];
      out[2 * i] = (float) (t->a * x - t->b * y + t->tx);
      out[2 * i + 1] = (float) (t->b * x + t->a * y + t->ty);
    }
}

WkpSimilarity
wkp_similarity_invert (const WkpSimilarity *t)
{
  /* The inverse of s*R(theta) is (1/s)*R(-theta): a' = a/(a^2+b^2), b' = -b/(a^2+b^2). */
  double d = t->a * t->a + t->b * t->b;
  WkpSimilarity r;
  r.a = t->a / d;
  r.b = -t->b / d;
  r.tx = -(r.a * t->tx - r.b * t->ty);
  r.ty = -(r.b * t->tx + r.a * t->ty);
  return r;
}

gboolean
wkp_face_normalize (const float *pixels, float *out, WkpSimilarity *transform, GError **error)
{
  WkpSimilarity t;
  int n;
  const int *idx = wkp_face_stable_points (&n);

  if (!wkp_similarity_fit (pixels, canonical_face, idx, n, &t, error))
    return FALSE;
  wkp_similarity_apply (&t, pixels, out, WKP_N_LANDMARKS);
  if (transform != NULL)
    *transform = t;
  return TRUE;
}

static double
point_distance (const float *pts, int i, int j)
{
  return hypot ((double) pts[2 * i] - pts[2 * j], (double) pts[2 * i + 1] - pts[2 * j + 1]);
}

double
wkp_face_interocular (const float *pts)
{
  /* hypot propagates NaN */
  return point_distance (pts, WKP_EYE_OUTER_LEFT, WKP_EYE_OUTER_RIGHT);
}

double
wkp_face_inner_aperture (const float *pts)
{
  double iod = wkp_face_interocular (pts);
  if (!(iod > 0))
    return NAN;
  double gap = (point_distance (pts, 61, 67) + point_distance (pts, 62, 66) + point_distance (pts, 63, 65)) / 3;
  return gap / iod;
}

gboolean
wkp_face_track_check (const float *d, gint64 n_frames, gboolean canonical, const char *path, GError **error)
{
  const double limit = canonical ? 100.0 : 1e6;
  const int per = WKP_N_LANDMARKS * 2;
  for (gint64 t = 0; t < n_frames; t++)
    {
      gboolean none = isnan (d[t * per]);
      for (int i = 0; i < per; i++)
        {
          float v = d[t * per + i];
          if (isnan (v) != none || (!none && !(fabs (v) <= limit)))
            {
              g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s: frame %" G_GINT64_FORMAT " holds %s",
                           path, t,
                           isnan (v) != none ? "a partly missing face (some coordinates NaN)"
                           : canonical ? "a coordinate beyond 100 inter-ocular distances of the canonical face"
                                       : "a coordinate beyond a million pixels");
              return FALSE;
            }
        }
    }
  return TRUE;
}
