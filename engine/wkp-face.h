/* wkp-face.h: 68-point iBUG face geometry and head-pose normalisation.
 *
 * Points are float32 (x, y) pairs, 68 per face, NaN where unknown. The
 * canonical face frame: the mean face centred on the midpoint of the outer eye
 * corners (36, 45), eyes horizontal, inter-ocular distance (36-45) 1.0, y down.
 */
#pragma once

#include <glib.h>

#include "wkp-error.h"

G_BEGIN_DECLS

#define WKP_N_LANDMARKS 68
#define WKP_MOUTH_FIRST 48     /* mouth: 48..67 (outer 48..59, inner 60..67) */
#define WKP_MOUTH_COUNT 20
#define WKP_EYE_OUTER_LEFT 36
#define WKP_EYE_OUTER_RIGHT 45

/* Similarity transform: x' = a*x - b*y + tx,  y' = b*x + a*y + ty. */
typedef struct {
  double a, b, tx, ty;
} WkpSimilarity;

/* The canonical mean face, [68, 2]. */
const float *wkp_face_canonical (void);

/* Stable points used for alignment (eye corners, nose); @n receives count. */
const int   *wkp_face_stable_points (int *n);

/* Least-squares similarity (Procrustes, no reflection) mapping @src onto @dst
 * using the point indices @idx (all 68 when @idx is NULL). Fails with
 * WKP_ERROR_INVALID on NaN or degenerate (coincident / collinear) input. */
gboolean wkp_similarity_fit     (const float *src, const float *dst, const int *idx, int n_idx,
                                 WkpSimilarity *out, GError **error);
void     wkp_similarity_apply   (const WkpSimilarity *t, const float *in, float *out, int n_points);
WkpSimilarity wkp_similarity_invert (const WkpSimilarity *t);

/* Normalises one face (pixels) into the canonical frame; @transform (may be
 * NULL) receives the pixel->canonical transform. */
gboolean wkp_face_normalize     (const float *pixels, float *out, WkpSimilarity *transform,
                                 GError **error);

/* Checks a track of @n_frames faces [68, 2]: each frame wholly NaN (no face)
 * or finite and within bounds (@canonical: 100 inter-ocular distances of the
 * canonical face; else a million pixels). The error names @path and the frame. */
gboolean wkp_face_track_check   (const float *points, gint64 n_frames, gboolean canonical, const char *path,
                                 GError **error);

/* Distance between the outer eye corners 36 and 45. NaN if unknown. */
double   wkp_face_interocular   (const float *pts);
/* Inner-lip aperture: mean of |61-67|, |62-66|, |63-65| divided by the
 * inter-ocular distance. NaN if unknown. */
double   wkp_face_inner_aperture (const float *pts);

G_END_DECLS
