/* wkp-speech.h: synthetic demo speech (eSpeak NG) and audio resampling. */
#pragma once

#include "wkp-media.h"

G_BEGIN_DECLS

/* Speaks @text with eSpeak NG's @voice ("en" when NULL) and returns mono
 * float32 audio at @rate Hz. eSpeak keeps global state, so calls are
 * serialised internally. */
WkpAudio *wkp_speech_synthesize (const char *text, const char *voice, int rate, GError **error);

/* Resamples mono float32 audio with libswresample. */
WkpAudio *wkp_audio_resample    (const float *samples, gint64 n, int in_rate, int out_rate, GError **error);

G_END_DECLS

G_BEGIN_DECLS
/* Writes 16-bit PCM mono WAV atomically. */
gboolean  wkp_audio_save_wav    (const WkpAudio *audio, const char *path, GError **error);
G_END_DECLS
