#include "wkp-time-view.h"

#include <math.h>

typedef struct
{
  gint64 position;
  gint64 range_start;
  gint64 range_end;
  gint64 sel_start;
  gint64 sel_end;
  gint64 duration;
  gint64 drag_anchor;
  gboolean drag_selects;
} WkpTimeViewPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (WkpTimeView, wkp_time_view, GTK_TYPE_WIDGET)

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

enum { SIGNAL_SEEK, SIGNAL_SELECT, SIGNAL_ZOOM, SIGNAL_PAN, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
range_changed (WkpTimeView *self)
{
  WkpTimeViewClass *klass = WKP_TIME_VIEW_GET_CLASS (self);
  if (klass->range_changed != NULL)
    klass->range_changed (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
wkp_time_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (WKP_TIME_VIEW (object));
  switch (prop_id)
    {
    case PROP_POSITION: g_value_set_int64 (value, priv->position); break;
    case PROP_RANGE_START: g_value_set_int64 (value, priv->range_start); break;
    case PROP_RANGE_END: g_value_set_int64 (value, priv->range_end); break;
    case PROP_SELECTION_START: g_value_set_int64 (value, priv->sel_start); break;
    case PROP_SELECTION_END: g_value_set_int64 (value, priv->sel_end); break;
    case PROP_DURATION: g_value_set_int64 (value, priv->duration); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wkp_time_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  WkpTimeView *self = WKP_TIME_VIEW (object);
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  gint64 v = G_VALUE_HOLDS_INT64 (value) ? g_value_get_int64 (value) : 0;
  gint64 *field = NULL;

  switch (prop_id)
    {
    case PROP_POSITION: field = &priv->position; break;
    case PROP_RANGE_START: field = &priv->range_start; break;
    case PROP_RANGE_END: field = &priv->range_end; break;
    case PROP_SELECTION_START: field = &priv->sel_start; break;
    case PROP_SELECTION_END: field = &priv->sel_end; break;
    case PROP_DURATION: field = &priv->duration; break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); return;
    }
  if (*field == v)
    return;
  *field = v;
  if (prop_id == PROP_RANGE_START || prop_id == PROP_RANGE_END || prop_id == PROP_DURATION)
    range_changed (self);
  else
    gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (object, pspec);
}

static void
wkp_time_view_class_init (WkpTimeViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = wkp_time_view_get_property;
  object_class->set_property = wkp_time_view_set_property;

  properties[PROP_POSITION] =
    g_param_spec_int64 ("position", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RANGE_START] =
    g_param_spec_int64 ("range-start", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RANGE_END] =
    g_param_spec_int64 ("range-end", NULL, NULL, G_MININT64, G_MAXINT64, 1000000,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTION_START] =
    g_param_spec_int64 ("selection-start", NULL, NULL, -1, G_MAXINT64, -1,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTION_END] =
    g_param_spec_int64 ("selection-end", NULL, NULL, -1, G_MAXINT64, -1,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DURATION] =
    g_param_spec_int64 ("duration", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* User gestures; the owner of the session model decides what they do. */
  signals[SIGNAL_SEEK] = g_signal_new ("seek", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  signals[SIGNAL_SELECT] = g_signal_new ("select", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);
  signals[SIGNAL_ZOOM] = g_signal_new ("zoom", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_DOUBLE);
  signals[SIGNAL_PAN] = g_signal_new ("pan", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static gint64
time_at (WkpTimeView *self, double x)
{
  WkpTimeMap map;
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  gint64 us;
  wkp_time_view_get_map (self, gtk_widget_get_width (GTK_WIDGET (self)), &map);
  us = wkp_time_map_to_us (&map, x);
  return CLAMP (us, 0, MAX (priv->duration, 0));
}

static void
drag_begin (GtkGestureDrag *gesture, double x, double y, WkpTimeView *self)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  priv->drag_anchor = time_at (self, x);
  priv->drag_selects = (mods & GDK_SHIFT_MASK) != 0;
  if (!priv->drag_selects)
    g_signal_emit (self, signals[SIGNAL_SEEK], 0, priv->drag_anchor);
}

static void
drag_update (GtkGestureDrag *gesture, double dx, double dy, WkpTimeView *self)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  double sx, sy;
  gint64 t;
  gtk_gesture_drag_get_start_point (gesture, &sx, &sy);
  t = time_at (self, sx + dx);
  if (priv->drag_selects)
    g_signal_emit (self, signals[SIGNAL_SELECT], 0, MIN (t, priv->drag_anchor), MAX (t, priv->drag_anchor));
  else
    g_signal_emit (self, signals[SIGNAL_SEEK], 0, t);
}

static gboolean
scroll (GtkEventControllerScroll *controller, double dx, double dy, WkpTimeView *self)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  gint64 span = priv->range_end - priv->range_start;

  if (mods & GDK_CONTROL_MASK)
    {
      double factor = pow (1.25, dy);
      g_signal_emit (self, signals[SIGNAL_ZOOM], 0, priv->position, factor);
      return TRUE;
    }
  if (dx == 0 && dy == 0)
    return FALSE;
  g_signal_emit (self, signals[SIGNAL_PAN], 0, (gint64) ((dx + dy) * span / 10));
  return TRUE;
}

static void
wkp_time_view_init (WkpTimeView *self)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  GtkGesture *drag;
  GtkEventController *sc;

  priv->range_end = 1000000;
  priv->sel_start = -1;
  priv->sel_end = -1;

  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  sc = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (sc, "scroll", G_CALLBACK (scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), sc);
}

gint64
wkp_time_view_get_position (WkpTimeView *self)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  return priv->position;
}

void
wkp_time_view_set_position (WkpTimeView *self, gint64 us)
{
  g_object_set (self, "position", us, NULL);
}

void
wkp_time_view_get_range (WkpTimeView *self, gint64 *start, gint64 *end)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  if (start) *start = priv->range_start;
  if (end) *end = priv->range_end;
}

void
wkp_time_view_set_range (WkpTimeView *self, gint64 start, gint64 end)
{
  g_object_set (self, "range-start", start, "range-end", end, NULL);
}

void
wkp_time_view_get_selection (WkpTimeView *self, gint64 *start, gint64 *end)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  if (start) *start = priv->sel_start;
  if (end) *end = priv->sel_end;
}

void
wkp_time_view_set_selection (WkpTimeView *self, gint64 start, gint64 end)
{
  g_object_set (self, "selection-start", start, "selection-end", end, NULL);
}

gint64
wkp_time_view_get_duration (WkpTimeView *self)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  return priv->duration;
}

void
wkp_time_view_set_duration (WkpTimeView *self, gint64 us)
{
  g_object_set (self, "duration", us, NULL);
}

void
wkp_time_view_get_map (WkpTimeView *self, double width, WkpTimeMap *map)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  map->start_us = priv->range_start;
  map->end_us = priv->range_end;
  map->width = width;
}

void
wkp_time_view_snapshot_selection (WkpTimeView *self, GtkSnapshot *snapshot, double width, double height)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  WkpTimeMap map;
  double x0, x1;
  GdkRGBA shade = { 0.21, 0.52, 0.89, 0.25 };

  if (priv->sel_start < 0 || priv->sel_end <= priv->sel_start)
    return;
  wkp_time_view_get_map (self, width, &map);
  x0 = CLAMP (wkp_time_map_to_x (&map, priv->sel_start), 0, width);
  x1 = CLAMP (wkp_time_map_to_x (&map, priv->sel_end), 0, width);
  if (x1 > x0)
    gtk_snapshot_append_color (snapshot, &shade, &GRAPHENE_RECT_INIT (x0, 0, x1 - x0, height));
}

void
wkp_time_view_snapshot_selection_edges (WkpTimeView *self, GtkSnapshot *snapshot, double width, double height,
                                        const GdkRGBA *color)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  WkpTimeMap map;
  gint64 edges[2] = { priv->sel_start, priv->sel_end };

  if (priv->sel_start < 0 || priv->sel_end <= priv->sel_start)
    return;
  wkp_time_view_get_map (self, width, &map);
  /* 2 px lines, inside the selection: an edge out of view is not drawn */
  for (int i = 0; i < 2; i++)
    {
      double x = floor (wkp_time_map_to_x (&map, edges[i])) - (i == 1 ? 2 : 0);
      if (x < -2 || x > width)
        continue;
      gtk_snapshot_append_color (snapshot, color, &GRAPHENE_RECT_INIT (x, 0, 2, height));
    }
}

void
wkp_time_view_snapshot_playhead (WkpTimeView *self, GtkSnapshot *snapshot, double width, double height)
{
  WkpTimeViewPrivate *priv = wkp_time_view_get_instance_private (self);
  WkpTimeMap map;
  double x;
  GdkRGBA red = { 0.88, 0.11, 0.14, 1.0 };

  wkp_time_view_get_map (self, width, &map);
  x = wkp_time_map_to_x (&map, priv->position);
  if (x < -2 || x > width + 2)
    return;
  /* at either edge of the view (the end of the clip after playback) the
   * 2 px line stays inside, where it can be seen */
  x = CLAMP (floor (x) - 1, 0, MAX (width - 2, 0));
  gtk_snapshot_append_color (snapshot, &red, &GRAPHENE_RECT_INIT (x, 0, 2, height));
}
