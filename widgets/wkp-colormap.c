#include "wkp-colormap.h"

#include <math.h>
#include <string.h>

/* Nine evenly spaced stops of matplotlib's viridis and magma (CC0 colormaps by
 * van der Walt and Smith), interpolated linearly: perceptually uniform enough
 * for a display and monotonic in lightness. */
static const guint8 viridis[9][3] = {
  { 0x44, 0x01, 0x54 }, { 0x47, 0x2c, 0x7a }, { 0x3b, 0x51, 0x8b },
  { 0x2c, 0x71, 0x8e }, { 0x21, 0x90, 0x8d }, { 0x27, 0xad, 0x81 },
  { 0x5c, 0xc8, 0x63 }, { 0xaa, 0xdc, 0x32 }, { 0xfd, 0xe7, 0x25 },
};
static const guint8 magma[9][3] = {
  { 0x00, 0x00, 0x04 }, { 0x1c, 0x10, 0x44 }, { 0x4f, 0x12, 0x7b },
  { 0x81, 0x25, 0x81 }, { 0xb5, 0x36, 0x7a }, { 0xe5, 0x50, 0x64 },
  { 0xfb, 0x87, 0x61 }, { 0xfe, 0xc2, 0x87 }, { 0xfc, 0xfd, 0xbf },
};

GType
wkp_colormap_get_type (void)
{
  static gsize type = 0;
  if (g_once_init_enter (&type))
    {
      static const GEnumValue values[] = {
        { WKP_COLORMAP_VIRIDIS, "WKP_COLORMAP_VIRIDIS", "viridis" },
        { WKP_COLORMAP_MAGMA, "WKP_COLORMAP_MAGMA", "magma" },
        { 0, NULL, NULL },
      };
      g_once_init_leave (&type, g_enum_register_static ("WkpColormap", values));
    }
  return type;
}

void
wkp_colormap_lookup (WkpColormap map, double t, guint8 rgb[3])
{
  const guint8 (*stops)[3] = map == WKP_COLORMAP_MAGMA ? magma : viridis;
  double x;
  int i;

  if (isnan (t))
    {
      rgb[0] = rgb[1] = rgb[2] = 0;
      return;
    }
  t = CLAMP (t, 0.0, 1.0);
  x = t * 8.0;
  i = MIN ((int) x, 7);
  x -= i;
  for (int c = 0; c < 3; c++)
    rgb[c] = (guint8) lround (stops[i][c] + (stops[i + 1][c] - stops[i][c]) * x);
}

const char *
wkp_colormap_to_string (WkpColormap map)
{
  return map == WKP_COLORMAP_MAGMA ? "magma" : "viridis";
}

WkpColormap
wkp_colormap_from_string (const char *name)
{
  return g_strcmp0 (name, "magma") == 0 ? WKP_COLORMAP_MAGMA : WKP_COLORMAP_VIRIDIS;
}

GdkTexture *
wkp_colormap_render (WkpColormap map, const float *matrix, gint64 col0, int n_cols, int n_coeffs,
                     const float *offset, const float *scale)
{
  g_autoptr(GBytes) bytes = NULL;
  gsize stride = (gsize) n_cols * 3;
  guint8 *pix;
  guint8 lut[256][3];

  g_return_val_if_fail (n_cols > 0 && n_coeffs > 0, NULL);

  for (int i = 0; i < 256; i++)
    wkp_colormap_lookup (map, i / 255.0, lut[i]);

  pix = g_malloc (stride * n_coeffs);
  for (int x = 0; x < n_cols; x++)
    {
      const float *row = matrix + (col0 + x) * n_coeffs;
      for (int c = 0; c < n_coeffs; c++)
        {
          guint8 *p = pix + (gsize) (n_coeffs - 1 - c) * stride + (gsize) x * 3;
          double v = ((double) row[c] - offset[c]) * scale[c];
          if (isnan (v))
            {
              p[0] = p[1] = p[2] = 0;
              continue;
            }
          int k = (int) lround (CLAMP (v, 0.0, 1.0) * 255.0);
          memcpy (p, lut[k], 3);
        }
    }
  bytes = g_bytes_new_take (pix, stride * n_coeffs);
  return gdk_memory_texture_new (n_cols, n_coeffs, GDK_MEMORY_R8G8B8, bytes, stride);
}
