/* wkp-colormap.h: perceptual colormaps and matrix -> texture rendering. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
  WKP_COLORMAP_VIRIDIS,
  WKP_COLORMAP_MAGMA,
} WkpColormap;

GType       wkp_colormap_get_type   (void) G_GNUC_CONST;
#define WKP_TYPE_COLORMAP (wkp_colormap_get_type ())

/* @t in [0, 1] (clamped; NaN maps to black). */
void        wkp_colormap_lookup     (WkpColormap map, double t, guint8 rgb[3]);
const char *wkp_colormap_to_string  (WkpColormap map);
WkpColormap wkp_colormap_from_string (const char *name);

/* Renders columns [col0, col0+n_cols) of a [rows_total, n_coeffs] float
 * matrix (row = time step) as an RGB texture n_cols wide and n_coeffs high,
 * coefficient 0 at the bottom; values map through (v - offset[c]) * scale[c]
 * to [0, 1]. Safe to call from any thread. */
GdkTexture *wkp_colormap_render     (WkpColormap map, const float *matrix, gint64 col0, int n_cols,
                                     int n_coeffs, const float *offset, const float *scale);

G_END_DECLS
