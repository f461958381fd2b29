#include "wkp-speech.h"

#include <espeak-ng/speak_lib.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <math.h>
#include <string.h>

#include "wkp-io.h"

WkpAudio *
wkp_audio_resample (const float *samples, gint64 n, int in_rate, int out_rate, GError **error)
{
  AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
  SwrContext *swr = NULL;
  WkpAudio *out;
  gint64 cap, len = 0;
  int got;

  if (swr_alloc_set_opts2 (&swr, &mono, AV_SAMPLE_FMT_FLT, out_rate, &mono, AV_SAMPLE_FMT_FLT, in_rate, 0, NULL) < 0 ||
      av_opt_set_int (swr, "filter_size", 32, 0) < 0 || swr_init (swr) < 0)
    {
      swr_free (&swr);
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "Cannot resample %d Hz to %d Hz", in_rate, out_rate);
      return NULL;
    }
  cap = av_rescale_rnd (n, out_rate, in_rate, AV_ROUND_UP) + 256;
  out = wkp_audio_new (cap, out_rate);
  while (TRUE)
    {
      const uint8_t *in = (const uint8_t *) samples;
      uint8_t *dst = (uint8_t *) (out->samples + len);
      int chunk = (int) MIN (n, 1 << 20);
      got = swr_convert (swr, &dst, (int) (cap - len), n > 0 ? &in : NULL, chunk);
      if (got < 0)
        break;
      len += got;
      if (n == 0)
        break;
      samples += chunk;
      n -= chunk;
    }
  swr_free (&swr);
  out->n_samples = len;
  return out;
}

typedef struct {
  GArray *pcm;
} SynthState;

static int
synth_cb (short *wav, int numsamples, espeak_EVENT *events)
{
  SynthState *st = events->user_data;
  if (wav != NULL && numsamples > 0)
    g_array_append_vals (st->pcm, wav, numsamples);
  return 0;
}

static GMutex espeak_lock;

WkpAudio *
wkp_speech_synthesize (const char *text, const char *voice, int rate, GError **error)
{
  static int espeak_rate = 0;
  SynthState st;
  g_autofree float *f = NULL;
  WkpAudio *audio;
  espeak_ERROR err;

  g_return_val_if_fail (text != NULL, NULL);
  g_mutex_lock (&espeak_lock);
  if (espeak_rate <= 0)
    {
      espeak_rate = espeak_Initialize (AUDIO_OUTPUT_SYNCHRONOUS, 500, NULL, 0);
      if (espeak_rate <= 0)
        {
          g_mutex_unlock (&espeak_lock);
          g_set_error_literal (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND,
                               "eSpeak NG could not start (is espeak-ng-data installed?)");
          return NULL;
        }
      espeak_SetSynthCallback (synth_cb);
    }
  if (espeak_SetVoiceByName (voice ? voice : "en") != EE_OK)
    {
      g_mutex_unlock (&espeak_lock);
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND, "eSpeak NG has no voice “%s”", voice ? voice : "en");
      return NULL;
    }
  st.pcm = g_array_new (FALSE, FALSE, sizeof (short));
  err = espeak_Synth (text, strlen (text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, &st);
  espeak_Synchronize ();
  g_mutex_unlock (&espeak_lock);
  if (err != EE_OK)
    {
      g_array_unref (st.pcm);
      g_set_error_literal (error, WKP_MEDIA_ERROR, WKP_ERROR_FAILED, "eSpeak NG failed to synthesise the text");
      return NULL;
    }
  f = g_new (float, MAX (st.pcm->len, 1));
  for (guint i = 0; i < st.pcm->len; i++)
    f[i] = g_array_index (st.pcm, short, i) / 32768.0f;
  audio = wkp_audio_resample (f, st.pcm->len, espeak_rate, rate, error);
  g_array_unref (st.pcm);
  return audio;
}

gboolean
wkp_audio_save_wav (const WkpAudio *audio, const char *path, GError **error)
{
  guint32 data_bytes = (guint32) (audio->n_samples * 2);
  GByteArray *b = g_byte_array_sized_new (44 + data_bytes);
  g_autoptr(GBytes) bytes = NULL;
  guint8 hdr[44];

#define LE32(p, v) do { guint32 _v = (v); (p)[0] = _v & 0xff; (p)[1] = (_v >> 8) & 0xff; (p)[2] = (_v >> 16) & 0xff; (p)[3] = _v >> 24; } while (0)
#define LE16(p, v) do { guint16 _v = (v); (p)[0] = _v & 0xff; (p)[1] = _v >> 8; } while (0)
  memcpy (hdr, "RIFF", 4);
  LE32 (hdr + 4, 36 + data_bytes);
  memcpy (hdr + 8, "WAVEfmt ", 8);
  LE32 (hdr + 16, 16);
  LE16 (hdr + 20, 1);
  LE16 (hdr + 22, 1);
  LE32 (hdr + 24, (guint32) audio->rate);
  LE32 (hdr + 28, (guint32) audio->rate * 2);
  LE16 (hdr + 32, 2);
  LE16 (hdr + 34, 16);
  memcpy (hdr + 36, "data", 4);
  LE32 (hdr + 40, data_bytes);
  g_byte_array_append (b, hdr, 44);
  for (gint64 i = 0; i < audio->n_samples; i++)
    {
      float v = CLAMP (audio->samples[i], -1.0f, 32767.0f / 32768.0f) * 32768.0f;
      gint16 s = (gint16) lrintf (v);
      guint8 le[2];
      LE16 (le, (guint16) s);
      g_byte_array_append (b, le, 2);
    }
#undef LE32
#undef LE16
  bytes = g_byte_array_free_to_bytes (b);
  return wkp_write_file_atomic (path, bytes, error);
}
