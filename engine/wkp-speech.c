#include "wkp-speech.h"

#include <espeak-ng/speak_lib.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <string.h>

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
