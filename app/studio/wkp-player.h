/* wkp-player.h: playback through a GStreamer pipeline.
 *
 * uridecodebin (or multifilesrc for image sequences) feeds an appsink for the
 * pictures and an audio sink (autoaudiosink, or a clock-synchronised fakesink
 * when silent) through scaletempo so that rates other than 1x keep the pitch.
 * The appsink is synchronised to the pipeline clock, so the latest sample it
 * delivered is the frame on screen; the window takes it in a tick callback.
 * Times are microseconds (converted from nanoseconds here, at the boundary).
 */
#pragma once

#include <gtk/gtk.h>

#include "wkp-time.h"

G_BEGIN_DECLS

#define WKP_TYPE_PLAYER (wkp_player_get_type ())
G_DECLARE_FINAL_TYPE (WkpPlayer, wkp_player, WKP, PLAYER, GObject)

WkpPlayer  *wkp_player_new           (gboolean silent);
/* @video: file or image pattern (NULL for audio-only); @audio: separate
 * audio file or NULL to play the video's own audio. */
gboolean    wkp_player_open          (WkpPlayer *self, const char *video, const char *audio,
                                      WkpRational fps, GError **error);
void        wkp_player_close         (WkpPlayer *self);
void        wkp_player_set_playing   (WkpPlayer *self, gboolean playing);
gboolean    wkp_player_get_playing   (WkpPlayer *self);
/* Accurate flushing seek. */
void        wkp_player_seek          (WkpPlayer *self, gint64 us);
void        wkp_player_set_rate      (WkpPlayer *self, double rate);
/* Plays the sound @us microseconds earlier against the pictures (negative:
 * later), through the audio sink's ts-offset: the studio's "Sound late by".
 * 0 again when a clip is opened or the player closed. */
void        wkp_player_set_audio_advance (WkpPlayer *self, gint64 us);
/* The audio sink's ts-offset in nanoseconds, G_MININT64 while there is no
 * audio sink (for tests). */
gint64      wkp_player_get_audio_offset (WkpPlayer *self);
/* The stream time of the sound the (silent, fakesink) audio sink rendered
 * last; FALSE when unknown (for tests). */
gboolean    wkp_player_get_audio_position (WkpPlayer *self, gint64 *us);
/* The pipeline's position (its clock while playing). */
gboolean    wkp_player_get_position  (WkpPlayer *self, gint64 *us);
/* The most recent displayed picture if it changed since the last call
 * (new reference), else NULL; @pts_us receives its stream time. */
GdkTexture *wkp_player_take_frame    (WkpPlayer *self, gint64 *pts_us);
/* Pictures delivered to the sink since open (a counter for benchmarks). */
guint64     wkp_player_get_frames_shown (WkpPlayer *self);
/* The temporary folder of the Matroska copies of MPEG program streams
 * (NULL before the first), and whether a copy is being made (the pipeline
 * is built when it is done). For tests. */
const char *wkp_player_get_copy_dir  (WkpPlayer *self);
gboolean    wkp_player_is_copying    (WkpPlayer *self);

/* Signals: "eos" (), "error" (const char *message). */

G_END_DECLS
