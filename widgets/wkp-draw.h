/* wkp-draw.h: small drawing helpers shared by the views. */
#pragma once

#include <gtk/gtk.h>

/* Appends @text laid out for @widget at (@x, @y), top-left, in @color; cut
 * with an ellipsis at @max_width pixels when that is > 0. */
static inline void
wkp_snapshot_append_text_clipped (GtkWidget *widget, GtkSnapshot *snapshot, const char *text, double x, double y,
                                  double max_width, const GdkRGBA *color)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    }
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
  g_object_unref (layout);
}

static inline void
wkp_snapshot_append_text (GtkWidget *widget, GtkSnapshot *snapshot, const char *text, double x, double y,
                          const GdkRGBA *color)
{
  wkp_snapshot_append_text_clipped (widget, snapshot, text, x, y, 0, color);
}
