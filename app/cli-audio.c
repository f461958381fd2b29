/* wav2kp audio FILE [--audio A] [--rate HZ] -o OUT.wav
 * wav2kp audio --text TEXT [--voice V] [--rate HZ] -o OUT.wav
 *
 * The first step of the diary's pipeline as a file: a clip's sound as mono
 * 16-bit WAV at the models' 16 kHz (or --rate), its sample 0 at the start of
 * video frame 0 (the time base every other command uses), or synthetic speech
 * from eSpeak NG to try a model on. */
#include "wkp-cli.h"
#include "wkp-io.h"
#include "wkp-media.h"
#include "wkp-speech.h"

#include <stdio.h>

#define TEXT_MAX_CHARS 2000

int
wkp_cli_audio (int argc, char **argv)
{
  g_autofree char *audio = NULL, *output = NULL, *text = NULL, *voice = NULL;
  g_auto(GStrv) files = NULL;
  int rate = WKP_AUDIO_RATE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output WAV (mono, 16-bit)", "OUT.wav" },
    { "audio", 'a', 0, G_OPTION_ARG_FILENAME, &audio, "Separate audio of a silent video or image sequence", "AUDIO" },
    { "rate", 'r', 0, G_OPTION_ARG_INT, &rate, "Sample rate in Hz (16000, what the models read)", "HZ" },
    { "text", 't', 0, G_OPTION_ARG_STRING, &text, "Speak this text with eSpeak NG instead of reading a FILE", "TEXT" },
    { "voice", 0, 0, G_OPTION_ARG_STRING, &voice, "eSpeak NG voice for --text (en)", "VOICE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o OUT.wav — a clip's audio, or synthetic speech, as WAV");
  g_autoptr(WkpClipAudio) clip = NULL;
  g_autoptr(WkpAudio) spoken = NULL;
  const WkpAudio *out_audio;
  WkpSourceSpec spec = { 0 };
  GError *error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "FILE is a video, an image sequence pattern (with --audio) or an audio file. Its sound is\n"
    "mixed to mono and resampled; sample 0 is the start of video frame 0 (audio before it is\n"
    "dropped, a late start is padded with silence), as `features`, `predict` and `prepare` read it.");
  if (!wkp_cli_parse (ctx, "audio", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (output == NULL)
    {
      g_printerr ("wav2kp audio: give the output with -o OUT.wav\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if ((text == NULL) == (files == NULL || files[0] == NULL) || (files != NULL && files[0] != NULL && files[1] != NULL))
    {
      g_printerr ("wav2kp audio: give one input FILE, or --text TEXT\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (text != NULL && audio != NULL)
    {
      g_printerr ("wav2kp audio: --audio goes with a FILE (an image sequence), not with --text\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (voice != NULL && text == NULL)
    {
      g_printerr ("wav2kp audio: --voice goes with --text\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (rate < 4000 || rate > 192000)
    {
      g_printerr ("wav2kp audio: --rate must be between 4000 and 192000 Hz\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (text != NULL && *g_strstrip (text) == '\0')
    {
      g_printerr ("wav2kp audio: --text is empty\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (text != NULL && g_utf8_strlen (text, -1) > TEXT_MAX_CHARS)
    {
      g_printerr ("wav2kp audio: --text has %ld characters, at most %d\n", g_utf8_strlen (text, -1), TEXT_MAX_CHARS);
      return WKP_EXIT_BAD_INPUT;
    }
  if (!wkp_cli_check_suffix ("audio", output, "a WAV file", ".wav"))
    return WKP_EXIT_BAD_INPUT;
  if (!wkp_check_output_path (output, &error))
    return wkp_cli_fail ("audio", error);

  if (text != NULL)
    {
      spoken = wkp_speech_synthesize (text, voice, rate, &error);
      if (spoken == NULL)
        return wkp_cli_fail ("audio", error);
      out_audio = spoken;
    }
  else
    {
      spec.video = files[0];
      spec.audio = audio;
      clip = wkp_clip_audio_load (&spec, rate, NULL, &error);
      if (clip == NULL)
        return wkp_cli_fail ("audio", error);
      wkp_cli_note_audio_mix ("audio", clip);
      out_audio = clip->audio;
    }
  if (!wkp_audio_save_wav (out_audio, output, &error))
    return wkp_cli_fail ("audio", error);
  printf ("%s: %.2f s at %d Hz, mono\n", output, (double) out_audio->n_samples / out_audio->rate, out_audio->rate);
  return WKP_EXIT_OK;
}
