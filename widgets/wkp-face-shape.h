/* wkp-face-shape.h: the contour groups of the 68-point iBUG layout. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "wkp-face-parts.h"   /* the table, from the engine's folder (a header only) */

G_BEGIN_DECLS

#define WKP_VIEW_N_POINTS 68
#define WKP_VIEW_MOUTH_FIRST 48

/* Adds the contour paths of @pts (68 (x, y) pairs, NaN skipped) to @cr,
 * transformed by (x * scale + ox, y * scale + oy); mouth parts only when
 * @mouth_only. */
void wkp_face_shape_path (cairo_t *cr, const float *pts, double scale, double ox, double oy,
                          gboolean mouth_only);

G_END_DECLS
