#include "wkp-session.h"

#include "wkp-timemap.h"

struct _WkpSession
{
  GObject        parent_instance;
  WkpStudioClip *clip;
  gint64         position;
  gint64         frame;
  gint64         range_start;
  gint64         range_end;
  gint64         sel_start;
  gint64         sel_end;
  gboolean       playing;
  double         rate;
  gboolean       loop;
};

G_DEFINE_FINAL_TYPE (WkpSession, wkp_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_POSITION,
  PROP_FRAME,
  PROP_DURATION,
  PROP_RANGE_START,
  PROP_RANGE_END,
  PROP_SELECTION_START,
  PROP_SELECTION_END,
  PROP_PLAYING,
  PROP_RATE,
  PROP_LOOP,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

enum { SIGNAL_CLIP_CHANGED, SIGNAL_CLIP_UPDATED, N_SIGNALS };
static guint signals[N_SIGNALS];

#define MIN_SPAN_US 200000

static void
wkp_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  WkpSession *self = WKP_SESSION (object);
  switch (prop_id)
    {
    case PROP_POSITION: g_value_set_int64 (value, self->position); break;
    case PROP_FRAME: g_value_set_int64 (value, self->frame); break;
    case PROP_DURATION: g_value_set_int64 (value, wkp_session_get_duration (self)); break;
    case PROP_RANGE_START: g_value_set_int64 (value, self->range_start); break;
    case PROP_RANGE_END: g_value_set_int64 (value, self->range_end); break;
    case PROP_SELECTION_START: g_value_set_int64 (value, self->sel_start); break;
    case PROP_SELECTION_END: g_value_set_int64 (value, self->sel_end); break;
    case PROP_PLAYING: g_value_set_boolean (value, self->playing); break;
    case PROP_RATE: g_value_set_double (value, self->rate); break;
    case PROP_LOOP: g_value_set_boolean (value, self->loop); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wkp_session_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  WkpSession *self = WKP_SESSION (object);
  switch (prop_id)
    {
    case PROP_POSITION: wkp_session_set_position (self, g_value_get_int64 (value)); break;
    case PROP_FRAME: wkp_session_set_frame (self, g_value_get_int64 (value)); break;
    case PROP_RANGE_START: wkp_session_set_range (self, g_value_get_int64 (value), self->range_end); break;
    case PROP_RANGE_END: wkp_session_set_range (self, self->range_start, g_value_get_int64 (value)); break;
    case PROP_SELECTION_START: wkp_session_set_selection (self, g_value_get_int64 (value), self->sel_end); break;
    case PROP_SELECTION_END: wkp_session_set_selection (self, self->sel_start, g_value_get_int64 (value)); break;
    case PROP_PLAYING: wkp_session_set_playing (self, g_value_get_boolean (value)); break;
    case PROP_RATE: wkp_session_set_rate (self, g_value_get_double (value)); break;
    case PROP_LOOP: wkp_session_set_loop (self, g_value_get_boolean (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wkp_session_finalize (GObject *object)
{
  WkpSession *self = WKP_SESSION (object);
  g_clear_pointer (&self->clip, wkp_studio_clip_unref);
  G_OBJECT_CLASS (wkp_session_parent_class)->finalize (object);
}

static void
wkp_session_class_init (WkpSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = wkp_session_finalize;
  object_class->get_property = wkp_session_get_property;
  object_class->set_property = wkp_session_set_property;

  properties[PROP_POSITION] = g_param_spec_int64 ("position", NULL, NULL, 0, G_MAXINT64, 0, rw);
  properties[PROP_FRAME] = g_param_spec_int64 ("frame", NULL, NULL, -1, G_MAXINT64, 0, rw);
  properties[PROP_DURATION] = g_param_spec_int64 ("duration", NULL, NULL, 0, G_MAXINT64, 0,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_RANGE_START] = g_param_spec_int64 ("range-start", NULL, NULL, 0, G_MAXINT64, 0, rw);
  properties[PROP_RANGE_END] = g_param_spec_int64 ("range-end", NULL, NULL, 0, G_MAXINT64, 1000000, rw);
  properties[PROP_SELECTION_START] = g_param_spec_int64 ("selection-start", NULL, NULL, -1, G_MAXINT64, -1, rw);
  properties[PROP_SELECTION_END] = g_param_spec_int64 ("selection-end", NULL, NULL, -1, G_MAXINT64, -1, rw);
  properties[PROP_PLAYING] = g_param_spec_boolean ("playing", NULL, NULL, FALSE, rw);
  properties[PROP_RATE] = g_param_spec_double ("rate", NULL, NULL, 0.25, 2.0, 1.0, rw);
  properties[PROP_LOOP] = g_param_spec_boolean ("loop", NULL, NULL, FALSE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CLIP_CHANGED] = g_signal_new ("clip-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                               0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CLIP_UPDATED] = g_signal_new ("clip-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                               0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
wkp_session_init (WkpSession *self)
{
  self->range_end = 1000000;
  self->sel_start = -1;
  self->sel_end = -1;
  self->rate = 1.0;
}

WkpSession *
wkp_session_new (void)
{
  return g_object_new (WKP_TYPE_SESSION, NULL);
}

WkpStudioClip *
wkp_session_get_clip (WkpSession *self)
{
  return self->clip;
}

void
wkp_session_set_clip (WkpSession *self, WkpStudioClip *clip)
{
  g_return_if_fail (WKP_IS_SESSION (self));
  if (clip != NULL)
    wkp_studio_clip_ref (clip);
  g_clear_pointer (&self->clip, wkp_studio_clip_unref);
  self->clip = clip;

  g_object_freeze_notify (G_OBJECT (self));
  wkp_session_set_playing (self, FALSE);
  wkp_session_set_selection (self, -1, -1);
  self->position = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POSITION]);
  wkp_session_set_frame (self, 0);
  wkp_session_set_range (self, 0, MAX (wkp_session_get_duration (self), 1000000));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DURATION]);
  g_object_thaw_notify (G_OBJECT (self));
  g_signal_emit (self, signals[SIGNAL_CLIP_CHANGED], 0);
}

void
wkp_session_clip_updated (WkpSession *self, WkpClipPart part)
{
  g_return_if_fail (WKP_IS_SESSION (self));
  if (part & WKP_CLIP_PART_MEDIA)
    {
      /* duration known now: show the whole clip */
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DURATION]);
      wkp_session_set_range (self, 0, MAX (wkp_session_get_duration (self), 1000000));
    }
  g_signal_emit (self, signals[SIGNAL_CLIP_UPDATED], 0, (guint) part);
}

gint64
wkp_session_get_position (WkpSession *self)
{
  return self->position;
}

void
wkp_session_set_position (WkpSession *self, gint64 us)
{
  gint64 duration = wkp_session_get_duration (self);
  us = CLAMP (us, 0, MAX (duration, 0));
  if (us != self->position)
    {
      self->position = us;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POSITION]);
    }
}

gint64
wkp_session_get_frame (WkpSession *self)
{
  return self->frame;
}

void
wkp_session_set_frame (WkpSession *self, gint64 frame)
{
  if (frame == self->frame)
    return;
  self->frame = frame;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
}

gint64
wkp_session_get_duration (WkpSession *self)
{
  if (self->clip == NULL || !(self->clip->parts & WKP_CLIP_PART_MEDIA))
    return 0;
  return self->clip->duration_us;
}

void
wkp_session_get_range (WkpSession *self, gint64 *start, gint64 *end)
{
  if (start) *start = self->range_start;
  if (end) *end = self->range_end;
}

void
wkp_session_set_range (WkpSession *self, gint64 start, gint64 end)
{
  if (end <= start)
    end = start + 1;
  if (start != self->range_start)
    {
      self->range_start = start;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RANGE_START]);
    }
  if (end != self->range_end)
    {
      self->range_end = end;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RANGE_END]);
    }
}

void
wkp_session_zoom (WkpSession *self, gint64 anchor_us, double factor)
{
  gint64 s = self->range_start, e = self->range_end;
  gint64 duration = wkp_session_get_duration (self);
  if (duration <= 0)
    return;
  wkp_time_range_zoom (&s, &e, anchor_us, factor, duration, MIN_SPAN_US);
  wkp_session_set_range (self, s, e);
}

void
wkp_session_pan (WkpSession *self, gint64 delta_us)
{
  gint64 s = self->range_start, e = self->range_end;
  wkp_time_range_pan (&s, &e, delta_us, wkp_session_get_duration (self));
  wkp_session_set_range (self, s, e);
}

void
wkp_session_get_selection (WkpSession *self, gint64 *start, gint64 *end)
{
  if (start) *start = self->sel_start;
  if (end) *end = self->sel_end;
}

void
wkp_session_set_selection (WkpSession *self, gint64 start, gint64 end)
{
  if (start < 0 || end < 0)
    start = end = -1;
  if (start != self->sel_start)
    {
      self->sel_start = start;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTION_START]);
    }
  if (end != self->sel_end)
    {
      self->sel_end = end;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTION_END]);
    }
}

gboolean
wkp_session_has_selection (WkpSession *self)
{
  return self->sel_start >= 0 && self->sel_end > self->sel_start;
}

gboolean
wkp_session_get_playing (WkpSession *self)
{
  return self->playing;
}

void
wkp_session_set_playing (WkpSession *self, gboolean playing)
{
  playing = !!playing;
  if (playing == self->playing)
    return;
  self->playing = playing;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

double
wkp_session_get_rate (WkpSession *self)
{
  return self->rate;
}

void
wkp_session_set_rate (WkpSession *self, double rate)
{
  rate = CLAMP (rate, 0.25, 2.0);
  if (rate == self->rate)
    return;
  self->rate = rate;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RATE]);
}

gboolean
wkp_session_get_loop (WkpSession *self)
{
  return self->loop;
}

void
wkp_session_set_loop (WkpSession *self, gboolean loop)
{
  loop = !!loop;
  if (loop == self->loop)
    return;
  self->loop = loop;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOOP]);
}

static WkpRational
session_fps (WkpSession *self)
{
  if (self->clip != NULL && wkp_rational_is_valid (self->clip->fps))
    return self->clip->fps;
  return WKP_DEFAULT_FPS;
}

gint64
wkp_session_frame_at (WkpSession *self, gint64 us)
{
  return wkp_us_to_frame (us, session_fps (self));
}

gint64
wkp_session_frame_start (WkpSession *self, gint64 frame)
{
  return wkp_frame_to_us (frame, session_fps (self));
}

gint64
wkp_session_n_frames (WkpSession *self)
{
  if (self->clip == NULL || !(self->clip->parts & WKP_CLIP_PART_MEDIA))
    return 0;
  return self->clip->n_frames;
}
