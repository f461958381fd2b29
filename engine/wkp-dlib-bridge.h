/* wkp-dlib-bridge.h: the C API of the one C++ file that talks to dlib.
 *
 * A WkpDlib holds a HOG frontal face detector of its own (dlib's detector is
 * not safe to share between threads) and a reference to the 68-point shape
 * predictor, which is deserialised once per process per model file (~100 MB,
 * slow to load) and is read-only afterwards. Use one WkpDlib per thread.
 * Images are 8-bit gray, row stride in bytes; nothing is copied unless a
 * rescale is asked for. Every C++ exception becomes a GError.
 */
#pragma once

#include <glib.h>

#include "wkp-error.h"

G_BEGIN_DECLS

typedef struct _WkpDlib WkpDlib;

typedef struct {
  double x0, y0, x1, y1;   /* box in image pixels, x1/y1 exclusive */
  double score;            /* detector confidence (HOG SVM margin) */
} WkpFaceBox;

/* @shape_model: dlib's shape_predictor_68_face_landmarks.dat; NULL for the
 * configured WKP_DLIB_SHAPE_MODEL. */
WkpDlib     *wkp_dlib_new          (const char *shape_model, GError **error);
void         wkp_dlib_free         (WkpDlib *dlib);

/* The predictor's mean shape [68, 2] in box coordinates: the box spans [0, 1]. */
const float *wkp_dlib_mean_shape   (const WkpDlib *dlib);

/* Detects frontal faces in @gray (@width x @height, @stride bytes a row)
 * resampled by @scale (bilinear; 1.0 = as is). Boxes are returned in the
 * coordinates of @gray, best first, at most @max_boxes. Returns the number of
 * faces, or -1 with @error set. */
int          wkp_dlib_detect       (WkpDlib *dlib, const guint8 *gray, int width, int height, int stride,
                                    double scale, double threshold, WkpFaceBox *boxes, int max_boxes,
                                    GError **error);

/* Fits the 68 landmarks inside @box (dlib's cascade on a re-packed copy of the
 * model, see the .cpp); @points receives [68, 2] pixels, not rounded. */
gboolean     wkp_dlib_fit          (WkpDlib *dlib, const guint8 *gray, int width, int height, int stride,
                                    const WkpFaceBox *box, float *points, GError **error);

/* The same fit with dlib's own shape_predictor (loaded on first use, another
 * ~100 MB; integer pixel output). Slow: for tests and comparisons. */
gboolean     wkp_dlib_fit_reference (WkpDlib *dlib, const guint8 *gray, int width, int height, int stride,
                                     const WkpFaceBox *box, float *points, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpDlib, wkp_dlib_free)

G_END_DECLS
