#include "wkp-face-shape.h"

#include <math.h>

static const WkpFacePart parts[] = {
  { 0, 16, FALSE },   /* jaw */
  { 17, 21, FALSE },  /* right brow */
  { 22, 26, FALSE },  /* left brow */
  { 27, 30, FALSE },  /* nose bridge */
  { 31, 35, FALSE },  /* nostrils */
  { 36, 41, TRUE },   /* right eye */
  { 42, 47, TRUE },   /* left eye */
  { 48, 59, TRUE },   /* outer lip */
  { 60, 67, TRUE },   /* inner lip */
};

const WkpFacePart *
wkp_face_parts (int *n)
{
  *n = G_N_ELEMENTS (parts);
  return parts;
}

void
wkp_face_shape_path (cairo_t *cr, const float *pts, double scale, double ox, double oy,
                     gboolean mouth_only)
{
  for (guint p = 0; p < G_N_ELEMENTS (parts); p++)
    {
      gboolean pen_down = FALSE, all = TRUE;
      if (mouth_only && parts[p].first < WKP_VIEW_MOUTH_FIRST)
        continue;
      for (int i = parts[p].first; i <= parts[p].last; i++)
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
      if (parts[p].closed && all)
        cairo_close_path (cr);
    }
}
