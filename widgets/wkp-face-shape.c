#include "wkp-face-shape.h"

#include <math.h>

void
wkp_face_shape_path (cairo_t *cr, const float *pts, double scale, double ox, double oy,
                     gboolean mouth_only)
{
  for (guint p = 0; p < G_N_ELEMENTS (WKP_FACE_PARTS); p++)
    {
      gboolean pen_down = FALSE, all = TRUE;
      if (mouth_only && WKP_FACE_PARTS[p].first < WKP_VIEW_MOUTH_FIRST)
        continue;
      for (int i = WKP_FACE_PARTS[p].first; i <= WKP_FACE_PARTS[p].last; i++)
        {
          double x = pts[2 * i], y = pts[2 * i + 1];
          if (isnan (x) || isnan (y))
            {
              pen_down = FALSE;
              all = FALSE;
              continue;
            }
          x = x * scale + ox;
          y = y * scale + oy;
          if (pen_down)
            cairo_line_to (cr, x, y);
          else
            cairo_move_to (cr, x, y);
          pen_down = TRUE;
        }
      if (WKP_FACE_PARTS[p].closed && all)
        cairo_close_path (cr);
    }
}
