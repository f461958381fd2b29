/* wkp-session.h: the studio's one source of truth for the timeline: the
 * current clip, the position, the displayed frame, the visible range, the
 * selection and the playback settings. Every view follows it (the window
 * binds its properties to the views); jobs and the player write to it on the
 * main thread only. */
#pragma once

#include <glib-object.h>

#include "wkp-studio-clip.h"

G_BEGIN_DECLS

#define WKP_TYPE_SESSION (wkp_session_get_type ())
G_DECLARE_FINAL_TYPE (WkpSession, wkp_session, WKP, SESSION, GObject)

WkpSession    *wkp_session_new             (void);

/* The clip (NULL when nothing is open). Replacing it resets the timeline. */
WkpStudioClip *wkp_session_get_clip        (WkpSession *self);
void           wkp_session_set_clip        (WkpSession *self, WkpStudioClip *clip);
/* Tells the views that a part of the clip arrived ("clip-updated" signal). */
void           wkp_session_clip_updated    (WkpSession *self, WkpClipPart part);

gint64         wkp_session_get_position    (WkpSession *self);
/* Clamped to [0, duration]; when nothing is playing also updates the frame. */
void           wkp_session_set_position    (WkpSession *self, gint64 us);
/* The frame index on screen (the player sets it from the displayed sample). */
gint64         wkp_session_get_frame       (WkpSession *self);
void           wkp_session_set_frame       (WkpSession *self, gint64 frame);
gint64         wkp_session_get_duration    (WkpSession *self);
void           wkp_session_get_range       (WkpSession *self, gint64 *start, gint64 *end);
void           wkp_session_set_range       (WkpSession *self, gint64 start, gint64 end);
void           wkp_session_zoom            (WkpSession *self, gint64 anchor_us, double factor);
void           wkp_session_pan             (WkpSession *self, gint64 delta_us);
void           wkp_session_get_selection   (WkpSession *self, gint64 *start, gint64 *end);
void           wkp_session_set_selection   (WkpSession *self, gint64 start, gint64 end);
gboolean       wkp_session_has_selection   (WkpSession *self);
gboolean       wkp_session_get_playing     (WkpSession *self);
void           wkp_session_set_playing     (WkpSession *self, gboolean playing);
double         wkp_session_get_rate        (WkpSession *self);
void           wkp_session_set_rate        (WkpSession *self, double rate);
gboolean       wkp_session_get_loop        (WkpSession *self);
void           wkp_session_set_loop        (WkpSession *self, gboolean loop);

/* Frame arithmetic of the current clip (25 fps when nothing is open). */
gint64         wkp_session_frame_at        (WkpSession *self, gint64 us);
gint64         wkp_session_frame_start     (WkpSession *self, gint64 frame);
gint64         wkp_session_n_frames        (WkpSession *self);

G_END_DECLS
