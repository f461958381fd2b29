/* wkp-draw.h: small drawing helpers shared by the views. */
#pragma once

#include <gtk/gtk.h>

/* Appends @text laid out for @widget at (@x, @y), top-left, in @color. */
static inline void
wkp_snapshot_append_text (GtkWidget *widget, GtkSnapshot *snapshot, const char *text, double x, double y,
                          const GdkRGBA *color)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
  g_object_unref (layout);
}
