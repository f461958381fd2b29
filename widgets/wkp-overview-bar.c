#include "wkp-overview-bar.h"

#include <math.h>

#define THUMB_MIN_W 8.0

struct _WkpOverviewBar
{
  GtkWidget parent_instance;
  gint64    position;
  gint64    range_start;
  gint64    range_end;
  gint64    sel_start;
  gint64    sel_end;
  gint64    duration;
  gint64    grab_offset;   /* while dragging: time under the pointer - range start */
};

G_DEFINE_FINAL_TYPE (WkpOverviewBar, wkp_overview_bar, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_POSITION,
  PROP_RANGE_START,
  PROP_RANGE_END,
  PROP_SELECTION_START,
  PROP_SELECTION_END,
  PROP_DURATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum { SIGNAL_PAN, SIGNAL_ZOOM, N_SIGNALS };
static guint signals[N_SIGNALS];

void
wkp_overview_map (gint64 duration, gint64 range_end, double width, WkpTimeMap *map)
{
  map->start_us = 0;
  map->end_us = MAX (MAX (duration, range_end), 1);
  map->width = width;
}

gboolean
wkp_overview_thumb (gint64 duration, gint64 start, gint64 end, double width, double min_w,
                    double *x, double *w)
{
  WkpTimeMap map;
  double x0, x1, c;

  if (duration <= 0 || width <= 0 || end <= start)
    return FALSE;
  /* the whole clip in view: a thumb filling the bar would look like
   * something to drag, with nothing to scroll */
  if (start <= 0 && end >= duration)
    return FALSE;
  wkp_overview_map (duration, end, width, &map);
  x0 = CLAMP (wkp_time_map_to_x (&map, start), 0, width);
  x1 = CLAMP (wkp_time_map_to_x (&map, end), 0, width);
  min_w = MIN (min_w, width);
  if (x1 - x0 < min_w)
    {
      c = (x0 + x1) / 2;
      x0 = CLAMP (c - min_w / 2, 0, width - min_w);
      x1 = x0 + min_w;
    }
  *x = x0;
  *w = x1 - x0;
  return TRUE;
}

static gint64
time_at (WkpOverviewBar *self, double x)
{
  WkpTimeMap map;
  wkp_overview_map (self->duration, self->range_end, gtk_widget_get_width (GTK_WIDGET (self)), &map);
  return wkp_time_map_to_us (&map, x);
}

/* asks for the view to start at @start (the session clamps it) */
static void
move_to (WkpOverviewBar *self, gint64 start)
{
  if (start != self->range_start)
    g_signal_emit (self, signals[SIGNAL_PAN], 0, start - self->range_start);
}

static void
drag_begin (GtkGestureDrag *gesture, double x, double y, WkpOverviewBar *self)
{
  double tx, tw;
  gint64 t = time_at (self, x);
  gint64 span = self->range_end - self->range_start;

  if (self->duration <= 0)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  if (wkp_overview_thumb (self->duration, self->range_start, self->range_end,
                          gtk_widget_get_width (GTK_WIDGET (self)), THUMB_MIN_W, &tx, &tw)
      && x >= tx && x <= tx + tw)
    {
      /* on the thumb: it follows the pointer from where it was grabbed */
      self->grab_offset = CLAMP (t - self->range_start, 0, span);
      return;
    }
  /* beside it: the view centres on the time clicked */
  self->grab_offset = span / 2;
  move_to (self, t - self->grab_offset);
}

static void
drag_update (GtkGestureDrag *gesture, double dx, double dy, WkpOverviewBar *self)
{
  double sx, sy;
  gtk_gesture_drag_get_start_point (gesture, &sx, &sy);
  move_to (self, time_at (self, sx + dx) - self->grab_offset);
}

static gboolean
scroll (GtkEventControllerScroll *controller, double dx, double dy, WkpOverviewBar *self)
{
  gint64 span = self->range_end - self->range_start;
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  /* as over the time views: Ctrl zooms about the playhead (it used to pan
   * here, and only here) ... */
  if (mods & GDK_CONTROL_MASK)
    {
      g_signal_emit (self, signals[SIGNAL_ZOOM], 0, self->position, pow (1.25, dy));
      return TRUE;
    }
  if (dx == 0 && dy == 0)
    return FALSE;
  /* ... and otherwise a tenth of the view per step */
  g_signal_emit (self, signals[SIGNAL_PAN], 0, (gint64) ((dx + dy) * span / 10));
  return TRUE;
}

static void
wkp_overview_bar_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  WkpOverviewBar *self = WKP_OVERVIEW_BAR (widget);
  double w = gtk_widget_get_width (widget);
  double h = gtk_widget_get_height (widget);
  GdkRGBA trough = { 0.86, 0.86, 0.88, 1 };
  GdkRGBA past_end = { 0.75, 0.75, 0.78, 1 };
  GdkRGBA sel = { 0.21, 0.52, 0.89, 0.45 };
  GdkRGBA thumb = { 0.36, 0.37, 0.40, 0.55 };
  GdkRGBA red = { 0.88, 0.11, 0.14, 1.0 };
  GskRoundedRect rr;
  WkpTimeMap map;
  double tx, tw;

  gtk_snapshot_append_color (snapshot, &trough, &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (self->duration <= 0)
    return;
  wkp_overview_map (self->duration, self->range_end, w, &map);
  if (self->duration < map.end_us)
    {
      double xe = wkp_time_map_to_x (&map, self->duration);
      gtk_snapshot_append_color (snapshot, &past_end, &GRAPHENE_RECT_INIT (xe, 0, w - xe, h));
    }
  if (self->sel_start >= 0 && self->sel_end > self->sel_start)
    {
      double x0 = wkp_time_map_to_x (&map, self->sel_start);
      double x1 = wkp_time_map_to_x (&map, self->sel_end);
      gtk_snapshot_append_color (snapshot, &sel, &GRAPHENE_RECT_INIT (x0, 0, MAX (x1 - x0, 1), h));
    }
  if (wkp_overview_thumb (self->duration, self->range_start, self->range_end, w, THUMB_MIN_W, &tx, &tw))
    {
      gsk_rounded_rect_init_from_rect (&rr, &GRAPHENE_RECT_INIT (tx, 1, tw, h - 2), 3);
      gtk_snapshot_push_rounded_clip (snapshot, &rr);
      gtk_snapshot_append_color (snapshot, &thumb, &rr.bounds);
      gtk_snapshot_pop (snapshot);
    }
  {
    double x = floor (wkp_time_map_to_x (&map, self->position));
    gtk_snapshot_append_color (snapshot, &red, &GRAPHENE_RECT_INIT (CLAMP (x, 0, w - 1), 0, 1, h));
  }
}

static void
wkp_overview_bar_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                          int *minimum, int *natural, int *min_baseline, int *nat_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 100 : 10;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 400 : 10;
}

static void
wkp_overview_bar_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  WkpOverviewBar *self = WKP_OVERVIEW_BAR (object);
  switch (prop_id)
    {
    case PROP_POSITION: g_value_set_int64 (value, self->position); break;
    case PROP_RANGE_START: g_value_set_int64 (value, self->range_start); break;
    case PROP_RANGE_END: g_value_set_int64 (value, self->range_end); break;
    case PROP_SELECTION_START: g_value_set_int64 (value, self->sel_start); break;
    case PROP_SELECTION_END: g_value_set_int64 (value, self->sel_end); break;
    case PROP_DURATION: g_value_set_int64 (value, self->duration); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wkp_overview_bar_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  WkpOverviewBar *self = WKP_OVERVIEW_BAR (object);
  gint64 v = g_value_get_int64 (value);
  gint64 *field = NULL;

  switch (prop_id)
    {
    case PROP_POSITION: field = &self->position; break;
    case PROP_RANGE_START: field = &self->range_start; break;
    case PROP_RANGE_END: field = &self->range_end; break;
    case PROP_SELECTION_START: field = &self->sel_start; break;
    case PROP_SELECTION_END: field = &self->sel_end; break;
    case PROP_DURATION: field = &self->duration; break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); return;
    }
  if (*field == v)
    return;
  *field = v;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (object, pspec);
}

static void
wkp_overview_bar_class_init (WkpOverviewBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = wkp_overview_bar_get_property;
  object_class->set_property = wkp_overview_bar_set_property;
  widget_class->snapshot = wkp_overview_bar_snapshot;
  widget_class->measure = wkp_overview_bar_measure;
  gtk_widget_class_set_css_name (widget_class, "overviewbar");

  properties[PROP_POSITION] = g_param_spec_int64 ("position", NULL, NULL, G_MININT64, G_MAXINT64, 0, rw);
  properties[PROP_RANGE_START] = g_param_spec_int64 ("range-start", NULL, NULL, G_MININT64, G_MAXINT64, 0, rw);
  properties[PROP_RANGE_END] = g_param_spec_int64 ("range-end", NULL, NULL, G_MININT64, G_MAXINT64, 1000000, rw);
  properties[PROP_SELECTION_START] = g_param_spec_int64 ("selection-start", NULL, NULL, -1, G_MAXINT64, -1, rw);
  properties[PROP_SELECTION_END] = g_param_spec_int64 ("selection-end", NULL, NULL, -1, G_MAXINT64, -1, rw);
  properties[PROP_DURATION] = g_param_spec_int64 ("duration", NULL, NULL, 0, G_MAXINT64, 0, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* the same signal as WkpTimeView::pan: shift the view by a delta (us) */
  signals[SIGNAL_PAN] = g_signal_new ("pan", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  /* and as WkpTimeView::zoom: scale the view by a factor about an anchor (us) */
  signals[SIGNAL_ZOOM] = g_signal_new ("zoom", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_DOUBLE);
}

static void
wkp_overview_bar_init (WkpOverviewBar *self)
{
  GtkGesture *drag;
  GtkEventController *sc;

  self->range_end = 1000000;
  self->sel_start = -1;
  self->sel_end = -1;

  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  sc = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (sc, "scroll", G_CALLBACK (scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), sc);
}

GtkWidget *
wkp_overview_bar_new (void)
{
  return g_object_new (WKP_TYPE_OVERVIEW_BAR, NULL);
}
