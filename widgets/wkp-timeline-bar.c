#include "wkp-timeline-bar.h"

#include <math.h>

struct _WkpTimelineBar
{
  WkpTimeView    parent_instance;
  GskRenderNode *ruler;     /* ticks and labels for (ruler_w, range) */
  int            ruler_w;
};

G_DEFINE_FINAL_TYPE (WkpTimelineBar, wkp_timeline_bar, WKP_TYPE_TIME_VIEW)

gint64
wkp_timeline_tick_step (const WkpTimeMap *map, double min_px)
{
  static const gint64 steps[] = {
    10000, 20000, 40000, 100000, 200000, 500000, 1000000, 2000000, 5000000,
    10000000, 15000000, 30000000, 60000000, 120000000, 300000000, 600000000,
  };
  gint64 span = map->end_us - map->start_us;
  if (span <= 0 || map->width <= 0)
    return steps[G_N_ELEMENTS (steps) - 1];
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    if ((double) steps[i] * map->width / (double) span >= min_px)
      return steps[i];
  return steps[G_N_ELEMENTS (steps) - 1];
}

#define LABEL_PAD 3.0   /* between a tick and its label */
#define LABEL_GAP 6.0   /* between two labels */

gboolean
wkp_timeline_label_x (double tick_x, double label_w, double width, double prev_end, double *x)
{
  double right = tick_x + LABEL_PAD;
  double left = tick_x - LABEL_PAD - label_w;

  if (right + label_w <= width && right >= prev_end + LABEL_GAP)
    {
      *x = right;
      return TRUE;
    }
  /* near the right edge: right-aligned to the tick, if that clears the
   * previous label */
  if (right + label_w > width && left >= 0 && left >= prev_end + LABEL_GAP)
    {
      *x = left;
      return TRUE;
    }
  return FALSE;
}

static GskRenderNode *
build_ruler (WkpTimelineBar *self, double w, double h)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GdkRGBA tick = { 0.45, 0.45, 0.48, 1 };
  GdkRGBA text = { 0.2, 0.2, 0.2, 1 };
  WkpTimeMap map;
  gint64 step, t;
  double prev_end = -G_MAXDOUBLE;

  wkp_time_view_get_map (WKP_TIME_VIEW (self), w, &map);
  step = wkp_timeline_tick_step (&map, 70);
  for (t = (map.start_us / step) * step; t <= map.end_us; t += step)
    {
      double x = floor (wkp_time_map_to_x (&map, t));
      g_autofree char *label = NULL;
      PangoLayout *layout;
      if (x < 0)
        continue;
      gtk_snapshot_append_color (snapshot, &tick, &GRAPHENE_RECT_INIT (x, h - 8, 1, 8));
      label = wkp_format_time (t);
      layout = gtk_widget_create_pango_layout (widget, label);
      {
        int lw;
        double lx;
        pango_layout_get_pixel_size (layout, &lw, NULL);
        /* a label that would be clipped at the right edge is right-aligned
         * to its tick, or left out when there is no room for it */
        if (wkp_timeline_label_x (x, lw, w, prev_end, &lx))
          {
            gtk_snapshot_save (snapshot);
            gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (lx, 1));
            gtk_snapshot_append_layout (snapshot, layout, &text);
            gtk_snapshot_restore (snapshot);
            prev_end = lx + lw;
          }
      }
      g_object_unref (layout);
      /* minor ticks */
      for (int k = 1; k < 5; k++)
        {
          double xm = floor (wkp_time_map_to_x (&map, t + step * k / 5));
          gtk_snapshot_append_color (snapshot, &tick, &GRAPHENE_RECT_INIT (xm, h - 4, 1, 4));
        }
    }
  return gtk_snapshot_free_to_node (snapshot);
}

static void
range_changed (WkpTimeView *view)
{
  g_clear_pointer (&WKP_TIMELINE_BAR (view)->ruler, gsk_render_node_unref);
}

static void
wkp_timeline_bar_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  WkpTimelineBar *self = WKP_TIMELINE_BAR (widget);
  WkpTimeView *view = WKP_TIME_VIEW (widget);
  double w = gtk_widget_get_width (widget);
  double h = gtk_widget_get_height (widget);
  GdkRGBA bg = { 0.94, 0.94, 0.95, 1 };
  GdkRGBA clip_end = { 0.75, 0.75, 0.78, 1 };
  WkpTimeMap map;
  gint64 duration;

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
  wkp_time_view_get_map (view, w, &map);
  duration = wkp_time_view_get_duration (view);
  if (duration > 0 && duration < map.end_us)
    {
      double xe = wkp_time_map_to_x (&map, duration);
      gtk_snapshot_append_color (snapshot, &clip_end, &GRAPHENE_RECT_INIT (xe, 0, w - xe, h));
    }
  wkp_time_view_snapshot_selection (view, snapshot, w, h);

  /* the ruler only changes with the size or the range: cached (not redrawn
   * for every playhead move) */
  if (self->ruler == NULL || self->ruler_w != (int) w)
    {
      g_clear_pointer (&self->ruler, gsk_render_node_unref);
      self->ruler = build_ruler (self, w, h);
      self->ruler_w = (int) w;
    }
  if (self->ruler != NULL)
    gtk_snapshot_append_node (snapshot, self->ruler);
  wkp_time_view_snapshot_playhead (view, snapshot, w, h);
  gtk_snapshot_pop (snapshot);
}

static void
wkp_timeline_bar_dispose (GObject *object)
{
  g_clear_pointer (&WKP_TIMELINE_BAR (object)->ruler, gsk_render_node_unref);
  G_OBJECT_CLASS (wkp_timeline_bar_parent_class)->dispose (object);
}

static void
wkp_timeline_bar_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                          int *minimum, int *natural, int *min_baseline, int *nat_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 100 : 28;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 400 : 28;
}

static void
wkp_timeline_bar_class_init (WkpTimelineBarClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = wkp_timeline_bar_dispose;
  WKP_TIME_VIEW_CLASS (klass)->range_changed = range_changed;
  widget_class->snapshot = wkp_timeline_bar_snapshot;
  widget_class->measure = wkp_timeline_bar_measure;
  gtk_widget_class_set_css_name (widget_class, "timelinebar");
}

static void
wkp_timeline_bar_init (WkpTimelineBar *self)
{
}

GtkWidget *
wkp_timeline_bar_new (void)
{
  return g_object_new (WKP_TYPE_TIMELINE_BAR, NULL);
}
