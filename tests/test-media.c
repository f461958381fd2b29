/* Media layer on every kind of file in ../shared/data, checked against
 * FFmpeg's own tools (ffprobe/ffmpeg) and scipy. */
#include "wkp-features.h"
#include "wkp-io.h"
#include "wkp-media.h"
#include "wkp-npy.h"
#include "wkp-test-util.h"

#include <math.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define GRID_MPG "av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
/* its pack clock jumps by 0.7 s after frame 35; FFmpeg's seeks past the jump
 * land at the end of the file */
#define GRID_MPG_JUMP "av/rizkiarm__LipNet/evaluation/samples/GRID/lwbsza.mpg"
#define NEWS_MPG "av/SAGAR0097__LIP-READING-USING-DEEP-LEARNING-/data/aa00_news_anchor.mpg"
#define NTSC_MP4 "av/astorfi__lip-reading-deeplearning/data/sample_video.mp4"
#define SILENT_MP4 "av/FuxiVirtualHuman__styletalk/samples/source_video/video/Obama_clip1.mp4"
#define SILENT_WAV "av/FuxiVirtualHuman__styletalk/samples/source_video/wav/Obama_clip1.wav"
#define SEQ_JPG "av/Hangz-nju-cuhk__Talking-Face_PC-AVS/misc/Mouth_Source/681600002/%06d.jpg"
#define SEQ_MP3 "av/Hangz-nju-cuhk__Talking-Face_PC-AVS/misc/Audio_Source/681600002.mp3"
#define VIDTIMIT "av/sibozhang__Text2Video/phoneme_data/VidTIMIT/fadg0/video/sa1/%03d"
#define NEWS_MPG "av/SAGAR0097__LIP-READING-USING-DEEP-LEARNING-/data/aa00_news_anchor.mpg"
#define VOX_MP4 "av/Hangz-nju-cuhk__Talking-Face_PC-AVS/misc/Input/00002.mp4"
#define HD_MP4 "av/tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4"

/* ffprobe's view of a file (independent of our code). */
static JsonObject *
ffprobe (const char *path, gboolean count)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams",
                         "-show_format", "-of", "json", count ? "-count_frames" : "-hide_banner", path, NULL };
  g_autofree char *out = NULL;
  int status;
  g_autoptr(JsonParser) parser = json_parser_new ();

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static JsonObject *
first_stream (JsonObject *probe)
{
  JsonArray *streams = json_object_get_array_member (probe, "streams");
  if (json_array_get_length (streams) == 0)
    return NULL;
  return json_array_get_object_element (streams, 0);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* ffprobe's packet timestamps of the video stream in seconds (packets
 * FFmpeg marks discard left out), sorted, and its average frame rate. */
static GArray *
ffprobe_packet_times (const char *path, double *fps)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                         "packet=pts_time,flags:stream=avg_frame_rate", "-of", "json", path, NULL };
  g_autofree char *out = NULL;
  int status;
  g_autoptr(JsonParser) parser = json_parser_new ();
  GArray *t = g_array_new (FALSE, FALSE, sizeof (double));
  JsonObject *root;
  JsonArray *packets;
  g_auto(GStrv) rate = NULL;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  rate = g_strsplit (json_object_get_string_member (first_stream (root), "avg_frame_rate"), "/", 2);
  *fps = g_ascii_strtod (rate[0], NULL) / g_ascii_strtod (rate[1], NULL);
  packets = json_object_get_array_member (root, "packets");
  for (guint i = 0; i < json_array_get_length (packets); i++)
    {
      JsonObject *pk = json_array_get_object_element (packets, i);
      double v;
      if (strchr (json_object_get_string_member (pk, "flags"), 'D') != NULL)
        continue;
      v = g_ascii_strtod (json_object_get_string_member (pk, "pts_time"), NULL);
      g_array_append_val (t, v);
    }
  g_array_sort (t, compare_doubles);
  return t;
}

/* From ffprobe's timestamps: the largest distance of the pictures from k /
 * the average frame rate, in milliseconds (the reference for
 * timing_error_us). */
static double
ffprobe_timing_error_ms (const char *path)
{
  double fps, worst = 0;
  g_autoptr(GArray) t = ffprobe_packet_times (path, &fps);
  for (guint k = 0; k < t->len; k++)
    worst = MAX (worst, fabs (g_array_index (t, double, k) - g_array_index (t, double, 0) - k / fps));
  return worst * 1000;
}

/* From ffprobe's timestamps: the frames of the constant grid a video with
 * irregular timing is read on, the last picture's nearest frame + 1. */
static gint64
ffprobe_grid_frames (const char *path)
{
  double fps;
  g_autoptr(GArray) t = ffprobe_packet_times (path, &fps);
  g_assert_cmpuint (t->len, >, 0);
  return (gint64) floor ((g_array_index (t, double, t->len - 1) - g_array_index (t, double, 0)) * fps + 0.5) + 1;
}

/* Frames whose timestamps stray from the constant rate every reader
 * assumes (a variable frame rate: retalking face/1.mp4, 33 and 67 ms
 * apart; a frame dropped near the end: RD_Radio10) are measured and get a
 * note; regular clips (GRID MPEG-1, an MP4) measure about 0 and get none. */
static void
test_timing_irregular (void)
{
  static const struct { const char *rel; gboolean irregular; } cases[] = {
    { "av/OpenTalker__video-retalking/examples/face/1.mp4", TRUE },
    { "av/tencent-ailab__V-Express/scripts/prepare_dataset/RD_Radio10_0_clip_0.mp4", TRUE },
    { "av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg", FALSE },
    { "av/FuxiVirtualHuman__styletalk/samples/source_video/video/Obama_clip1.mp4", FALSE },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *path = wkp_test_shared_file (cases[c].rel);
      g_autoptr(GError) error = NULL;
      g_autoptr(WkpMediaInfo) info = NULL, quick = NULL;
      g_autofree char *note = NULL;
      double ref;
      if (path == NULL)
        continue;
      info = wkp_media_probe (path, WKP_RATIONAL (0, 0), WKP_PROBE_COUNT_FRAMES, &error);
      g_assert_no_error (error);
      ref = ffprobe_timing_error_ms (path);
      note = wkp_media_timing_note (info);
      g_test_message ("%s: %.3f ms (ffprobe %.3f ms)%s", cases[c].rel, info->timing_error_us / 1000.0, ref,
                      note ? ", noted" : "");
      g_assert_cmpfloat (fabs (info->timing_error_us / 1000.0 - ref), <, 0.01);
      g_assert_true ((note != NULL) == cases[c].irregular);
      if (note != NULL)
        {
          g_autofree char *ms = g_strdup_printf ("up to %.0f ms from a constant", ref);
          g_assert_nonnull (strstr (note, ms));
          g_assert_true (g_str_has_prefix (note, path));
        }
      /* a probe that does not read the packets does not claim to know */
      quick = wkp_media_probe (path, WKP_RATIONAL (0, 0), WKP_PROBE_DEFAULT, &error);
      g_assert_no_error (error);
      g_assert_cmpint (quick->timing_error_us, ==, 0);
    }
}

static void
check_video_against_ffprobe (const char *rel, gboolean expect_audio)
{
  g_autofree char *path = wkp_test_shared_file (rel);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpMediaInfo) info = NULL;
  JsonObject *probe, *vs;
  WkpRational r;

  if (path == NULL)
    return;
  info = wkp_media_probe (path, WKP_RATIONAL (0, 0), WKP_PROBE_COUNT_FRAMES, &error);
  g_assert_no_error (error);
  probe = ffprobe (path, TRUE);
  vs = first_stream (probe);
  g_assert_true (info->has_video);
  g_assert_cmpint (info->width, ==, json_object_get_int_member (vs, "width"));
  g_assert_cmpint (info->height, ==, json_object_get_int_member (vs, "height"));
  g_assert_cmpstr (info->video_codec, ==, json_object_get_string_member (vs, "codec_name"));
  g_assert_true (wkp_rational_parse (json_object_get_string_member (vs, "avg_frame_rate"), &r, NULL));
  g_assert_cmpint (info->fps.num, ==, r.num);
  g_assert_cmpint (info->fps.den, ==, r.den);
  /* our packet count equals ffprobe's decoded frame count */
  g_assert_cmpint (info->n_frames, ==, g_ascii_strtoll (json_object_get_string_member (vs, "nb_read_frames"), NULL, 10));
  g_assert_cmpint (info->has_audio, ==, expect_audio);
  json_object_unref (probe);
}

static void
test_probe_kinds (void)
{
  g_autofree char *grid = wkp_test_shared_file (GRID_MPG);
  g_autoptr(GError) error = NULL;

  if (grid == NULL)
    return;
  check_video_against_ffprobe (GRID_MPG, TRUE);
  check_video_against_ffprobe (NTSC_MP4, TRUE);
  check_video_against_ffprobe (SILENT_MP4, FALSE);
  check_video_against_ffprobe (NEWS_MPG, TRUE);
  check_video_against_ffprobe (VOX_MP4, TRUE);

  {
    g_autoptr(WkpMediaInfo) info = wkp_media_probe (grid, WKP_RATIONAL (0, 0), 0, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (info->audio_codec, ==, "mp2");
    g_assert_cmpint (info->sample_rate, ==, 44100);
    g_assert_cmpint (info->channels, ==, 2);
    g_assert_cmpint (info->fps.num, ==, 25);
    g_assert_cmpint (info->fps.den, ==, 1);
  }
  {
    g_autofree char *p = wkp_test_shared_file (NTSC_MP4);
    g_autoptr(WkpMediaInfo) info = wkp_media_probe (p, WKP_RATIONAL (0, 0), 0, &error);
    g_assert_no_error (error);
    /* a rational, not 29.97 */
    g_assert_cmpint (info->fps.num, ==, 30000);
    g_assert_cmpint (info->fps.den, ==, 1001);
  }
  {
    /* a WAV named .mp3: content wins */
    g_autofree char *p = wkp_test_shared_file (SEQ_MP3);
    g_autoptr(WkpMediaInfo) info = wkp_media_probe (p, WKP_RATIONAL (0, 0), 0, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (info->container, ==, "wav");
    g_assert_false (info->has_video);
    g_assert_cmpint (info->sample_rate, ==, 16000);
  }
  {
    /* image sequences: JPEG with and without extension */
    g_autofree char *p = wkp_test_shared_file (SEQ_JPG);
    g_autofree char *v = wkp_test_shared_file (VIDTIMIT);
    g_autoptr(WkpMediaInfo) a = wkp_media_probe (p, WKP_RATIONAL (0, 0), 0, &error);
    g_autoptr(WkpMediaInfo) b = NULL;
    g_assert_no_error (error);
    b = wkp_media_probe (v, WKP_RATIONAL (30, 1), 0, &error);
    g_assert_no_error (error);
    g_assert_true (a->is_image_sequence);
    g_assert_cmpint (a->n_frames, ==, 363);
    g_assert_cmpint (a->width, ==, 224);
    g_assert_cmpint (a->fps.num, ==, 25);
    g_assert_cmpint (b->n_frames, ==, 119);
    g_assert_cmpint (b->width, ==, 512);
    g_assert_cmpint (b->fps.num, ==, 30);
  }
}

/* Every clip in clips.csv: the number of feature rows `wav2kp features`
 * produces (the same engine path, run in-process) equals FFmpeg's own count
 * of the video's frames (ffprobe -count_frames decodes them all; image
 * sequences: the files the pattern matches; a video with irregular timing:
 * the frames of its grid from ffprobe's timestamps). */
static void
test_frame_counts_corpus (void)
{
  const char *dir = wkp_test_shared_data ();
  g_auto(GStrv) lines = NULL;
  WkpFeatureConfig config;
  int checked = 0, resampled = 0;

  if (dir == NULL)
    return;
  {
    g_autofree char *text = NULL;
    g_autofree char *p = g_build_filename (dir, "clips.csv", NULL);
    g_assert_true (g_file_get_contents (p, &text, NULL, NULL));
    lines = g_strsplit (text, "\n", -1);
  }
  wkp_feature_config_init_default (&config);
  for (int i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) cols = g_strsplit (lines[i], ",", 3);
      g_autofree char *video = NULL, *audio = NULL;
      g_autoptr(WkpClipAudio) clip = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree float *rows = NULL;
      WkpSourceSpec spec = { 0 };
      gint64 ffmpeg_count;

      if (cols[0] == NULL || cols[1] == NULL || *cols[0] == '\0')
        continue;
      video = g_build_filename (dir, cols[0], NULL);
      if (*cols[1] != '\0')
        audio = g_build_filename (dir, cols[1], NULL);
      spec.video = video;
      spec.audio = audio;
      clip = wkp_clip_audio_load (&spec, 16000, NULL, &error);
      g_assert_no_error (error);
      rows = wkp_features_compute (&config, clip->audio->samples, clip->audio->n_samples, clip->fps,
                                   clip->n_frames, &error);
      g_assert_no_error (error);

      if (wkp_media_is_pattern (cols[0]))
        {
          /* the corpus's sequence folders hold nothing but their frames */
          g_autofree char *folder = g_path_get_dirname (video);
          GDir *d = g_dir_open (folder, 0, NULL);
          g_assert_nonnull (d);
          ffmpeg_count = 0;
          while (g_dir_read_name (d) != NULL)
            ffmpeg_count++;
          g_dir_close (d);
        }
      else if (clip->video_info->resampled)
        {
          /* irregular timing: the frames of the grid it is read on */
          ffmpeg_count = ffprobe_grid_frames (video);
          g_test_message ("%s: %" G_GINT64_FORMAT " frames on the grid from %" G_GINT64_FORMAT " pictures", cols[0],
                          ffmpeg_count, clip->video_info->n_decoded);
          resampled++;
        }
      else
        {
          JsonObject *probe = ffprobe (video, TRUE);
          ffmpeg_count = g_ascii_strtoll (json_object_get_string_member (first_stream (probe), "nb_read_frames"),
                                          NULL, 10);
          json_object_unref (probe);
        }
      if (clip->n_frames != ffmpeg_count)
        g_error ("%s: %" G_GINT64_FORMAT " feature rows, FFmpeg counts %" G_GINT64_FORMAT " frames", cols[0],
                 clip->n_frames, ffmpeg_count);
      checked++;
    }
  g_test_message ("%d clips: feature rows equal FFmpeg's frame count (%d with irregular timing: its grid's)",
                  checked, resampled);
  g_assert_cmpint (checked, >, 1000);
  g_assert_cmpint (resampled, ==, 2);   /* retalking face/1.mp4 and RD_Radio10 */
}

/* Decodes @rel with our media layer and has tests/media_ref.py check the
 * samples in @mode:
 *  wav-exact  the .mp3 that is really a 16 kHz WAV decodes bit-exactly (int16/32768);
 *  resampled  stereo 44.1 kHz MP2 or 48 kHz AAC, down-mixed and resampled, matches
 *             scipy's polyphase resampling of FFmpeg's own decode with SNR > 30 dB. */
static void
check_audio (const char *rel, const char *mode)
{
  g_autofree char *path = wkp_test_shared_file (rel);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpAudio) audio = NULL;
  g_autofree char *dir = NULL, *npy = NULL, *out = NULL;
  gint64 shape[1];

  if (path == NULL || wkp_test_python ("scipy") == NULL)
    return;
  audio = wkp_audio_load (path, 16000, NULL, NULL, &error);
  g_assert_no_error (error);
  dir = wkp_test_tmpdir ();
  npy = g_build_filename (dir, "ours.npy", NULL);
  shape[0] = audio->n_samples;
  g_assert_true (wkp_npy_save (npy, WKP_DTYPE_F32, 1, shape, audio->samples, &error));
  {
    const char *args[] = { mode, path, npy, NULL };
    out = wkp_test_run_python ("media_ref.py", args);
  }
  g_test_message ("%s (%s): %s", rel, mode, out);
  g_assert_true (g_str_has_prefix (out, "ok"));
}

static void
test_audio_wav_exact (void)
{
  check_audio (SEQ_MP3, "wav-exact");
}

static void
test_audio_resampled (void)
{
  check_audio (GRID_MPG, "resampled");
  check_audio (HD_MP4, "resampled");
}

/* The down-mix: a channel in antiphase with the first (a microphone wired in
 * reverse) is inverted before the average, which would otherwise cancel the
 * speech; channels that merely differ are averaged as they are. Synthetic
 * WAVs, so the expected mix is known exactly. */
static float *
speech_like (gint64 n, int rate, guint32 seed)
{
  float *x = g_new (float, n);
  GRand *r = g_rand_new_with_seed (seed);
  for (gint64 i = 0; i < n; i++)
    {
      double t = (double) i / rate;
      double env = 0.5 + 0.5 * sin (2 * G_PI * 3.0 * t);   /* syllable-rate envelope */
      x[i] = (float) (0.4 * env * (sin (2 * G_PI * 220.0 * t) + 0.5 * sin (2 * G_PI * 660.0 * t))
                      + 0.02 * g_rand_double_range (r, -1, 1));
    }
  g_rand_free (r);
  return x;
}

static WkpAudio *
load_interleaved (const char *dir, const char *name, const float *x, gint64 n, int channels, int rate, int out_rate)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  WkpAudio *a;
  wkp_test_write_wav_channels (path, x, n, channels, rate);
  a = wkp_audio_load (path, out_rate, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->channels, ==, channels);
  return a;
}

static void
test_audio_antiphase (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  const gint64 n = 16000 * 40;   /* past the 10 s of sound on which the polarities are decided */
  g_autofree float *x = speech_like (n, 16000, 1);
  g_autofree float *noise = speech_like (n, 16000, 2);
  g_autofree float *lr = g_new (float, 2 * n);
  g_autofree float *three = g_new (float, 3 * n);
  g_autofree float *quant = g_new (float, n);
  g_autoptr(WkpAudio) mono = NULL, anti = NULL, same = NULL, tri = NULL;
  g_autofree char *note = NULL;

  /* the reference: x as the 16-bit WAV holds it */
  for (gint64 i = 0; i < n; i++)
    quant[i] = (float) (gint16) (x[i] * 32767.0f) / 32768.0f;
  mono = load_interleaved (dir, "mono.wav", x, n, 1, 16000, 16000);
  g_assert_cmpint (mono->n_samples, ==, n);
  g_assert_cmpfloat (wkp_test_max_abs_diff (mono->samples, quant, n), <, 1e-6);
  g_assert_cmpuint (mono->inverted_channels, ==, 0);
  g_assert_null (wkp_audio_mix_note (mono, "mono.wav"));

  /* R = -L: the mix is L over the whole 40 s (held part and streamed part) */
  for (gint64 i = 0; i < n; i++)
    lr[2 * i] = x[i], lr[2 * i + 1] = -x[i];
  anti = load_interleaved (dir, "anti.wav", lr, n, 2, 16000, 16000);
  g_assert_cmpint (anti->n_samples, ==, n);
  g_assert_cmpuint (anti->inverted_channels, ==, 1u << 1);
  g_assert_cmpfloat (wkp_test_max_abs_diff (anti->samples, quant, n), <, 1e-6);
  note = wkp_audio_mix_note (anti, "anti.wav");
  g_assert_nonnull (note);
  g_assert_nonnull (strstr (note, "anti.wav: channel 2 of 2 is in antiphase"));

  /* R = 0.5 L + other sound: positively related, averaged as it is */
  for (gint64 i = 0; i < n; i++)
    lr[2 * i] = x[i], lr[2 * i + 1] = 0.5f * x[i] + 0.5f * noise[i];
  same = load_interleaved (dir, "same.wav", lr, n, 2, 16000, 16000);
  g_assert_cmpuint (same->inverted_channels, ==, 0);
  for (gint64 i = 0; i < n; i += 101)
    {
      float l = (float) (gint16) (lr[2 * i] * 32767.0f) / 32768.0f;
      float r = (float) (gint16) (lr[2 * i + 1] * 32767.0f) / 32768.0f;
      g_assert_cmpfloat_with_epsilon (same->samples[i], 0.5f * (l + r), 1e-6);
    }

  /* 35 s of silence first: the decision waits for sound (it was made on the
   * silence, and the speech after it cancelled) */
  {
    const gint64 quiet = 16000 * 35, m = quiet + 16000 * 12;
    g_autofree float *late = g_new0 (float, 2 * m);
    g_autoptr(WkpAudio) la = NULL;
    for (gint64 i = quiet; i < m; i++)
      late[2 * i] = x[i - quiet], late[2 * i + 1] = -x[i - quiet];
    la = load_interleaved (dir, "late.wav", late, m, 2, 16000, 16000);
    g_assert_cmpuint (la->inverted_channels, ==, 1u << 1);
    g_assert_cmpfloat (wkp_test_max_abs_diff (la->samples + quiet, quant, m - quiet), <, 1e-6);
  }

  /* three channels, the middle one reversed: only it is inverted */
  for (gint64 i = 0; i < n; i++)
    three[3 * i] = x[i], three[3 * i + 1] = -x[i], three[3 * i + 2] = x[i];
  tri = load_interleaved (dir, "three.wav", three, n, 3, 16000, 16000);
  g_assert_cmpuint (tri->inverted_channels, ==, 1u << 1);
  g_assert_cmpfloat (wkp_test_max_abs_diff (tri->samples, quant, n), <, 1e-6);

  /* channel 1 nearly dead (hum 40 dB down), channels 2 and 3 in antiphase:
   * judged against channel 1 nothing is inverted and the speech cancels;
   * judged against the loudest channel, channel 3 is inverted */
  {
    g_autoptr(WkpAudio) dead = NULL;
    g_autofree char *dnote = NULL;
    double e_mix = 0, e_x = 0;
    for (gint64 i = 0; i < n; i++)
      three[3 * i] = 0.01f * noise[i], three[3 * i + 1] = x[i], three[3 * i + 2] = -x[i];
    dead = load_interleaved (dir, "dead1.wav", three, n, 3, 16000, 16000);
    g_assert_cmpint (dead->reference_channel, ==, 1);
    g_assert_cmpuint (dead->inverted_channels, ==, 1u << 2);
    for (gint64 i = 0; i < n; i++)
      {
        float hum = (float) (gint16) (0.01f * noise[i] * 32767.0f) / 32768.0f;
        g_assert_cmpfloat (fabsf (dead->samples[i] - (hum + 2.0f * quant[i]) / 3.0f), <, 1e-6);
        e_mix += (double) dead->samples[i] * dead->samples[i];
        e_x += (double) quant[i] * quant[i];
      }
    g_assert_cmpfloat (e_mix / e_x, >, 0.4);   /* (2/3)^2, not silence */
    dnote = wkp_audio_mix_note (dead, "dead1.wav");
    g_assert_nonnull (strstr (dnote, "dead1.wav: channel 3 of 3 is in antiphase with channel 2 (channel 1 is almost "
                                     "silent)"));
  }

  /* resampled from 48 kHz: the antiphase pair gives what the mono file gives */
  {
    const gint64 m = 48000 * 3;   /* shorter than 30 s: decided at the end */
    g_autofree float *y = speech_like (m, 48000, 3);
    g_autofree float *ylr = g_new (float, 2 * m);
    g_autoptr(WkpAudio) ym = NULL, ya = NULL;
    for (gint64 i = 0; i < m; i++)
      ylr[2 * i] = y[i], ylr[2 * i + 1] = -y[i];
    ym = load_interleaved (dir, "mono48.wav", y, m, 1, 48000, 16000);
    ya = load_interleaved (dir, "anti48.wav", ylr, m, 2, 48000, 16000);
    g_assert_cmpint (ya->n_samples, ==, ym->n_samples);
    g_assert_cmpuint (ya->inverted_channels, ==, 1u << 1);
    g_assert_cmpfloat (wkp_test_max_abs_diff (ya->samples, ym->samples, ym->n_samples), <, 1e-5);
  }
}

/* What is refused before FFmpeg as one of our files: .npy, .wkpm, JSON and
 * CSV-like text; text formats FFmpeg reads (markup, netpbm) and a pipe are
 * left alone (a pipe was opened and the read blocked for ever). */
static void
test_file_sniff (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  static const struct { const char *name, *text; WkpFileKind want; } cases[] = {
    { "a.json", "  {\"fps\": \"25/1\"}\n", WKP_FILE_TEXT },
    { "b.csv", "frame, face_id, timestamp, x_0\n1, 0, 0.0, 1.5\n", WKP_FILE_TEXT },
    { "c.svg", "<svg viewBox=\"0,0,64,64\" xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>\n", WKP_FILE_OTHER },
    { "d.pgm", "P2 # made with gimp, v2, export\n2 2\n255\n0 255\n255 0\n", WKP_FILE_OTHER },
    { "e.txt", "just some words\n", WKP_FILE_OTHER },
    { "f.npy", "\x93NUMPY\x01\x00", WKP_FILE_NPY },
    { "g.wkpm", "WKPMODEL\x01", WKP_FILE_MODEL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *p = g_build_filename (dir, cases[i].name, NULL);
      g_assert_true (g_file_set_contents (p, cases[i].text, -1, NULL));
      g_assert_cmpint (wkp_file_sniff (p), ==, cases[i].want);
    }
  {
    g_autofree char *fifo = g_build_filename (dir, "pipe.wav", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
    g_assert_cmpint (wkp_file_sniff (fifo), ==, WKP_FILE_OTHER);   /* returns: nothing read */
    g_assert_null (wkp_media_probe (fifo, WKP_RATIONAL (0, 0), WKP_PROBE_DEFAULT, &error));
    g_assert_nonnull (strstr (error->message, "is not a regular file"));
  }
}

/* Clip audio: silent video + WAV, image sequence + "mp3", audio only. */
static void
test_clip_audio (void)
{
  g_autofree char *video = wkp_test_shared_file (SILENT_MP4);
  g_autofree char *wav = wkp_test_shared_file (SILENT_WAV);
  g_autofree char *seq = wkp_test_shared_file (SEQ_JPG);
  g_autofree char *mp3 = wkp_test_shared_file (SEQ_MP3);
  g_autoptr(GError) error = NULL;

  if (video == NULL)
    return;
  {
    WkpSourceSpec spec = { video, wav, { 0, 0 } };
    g_autoptr(WkpClipAudio) clip = wkp_clip_audio_load (&spec, 16000, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (clip->fps.num, ==, 30);
    g_assert_cmpint (clip->n_frames, ==, 602);
    g_assert_cmpstr (clip->audio_source, ==, wav);
    /* the WAV is about as long as the video (20 s) */
    g_assert_cmpint (ABS (clip->audio->n_samples - 602 * 16000 / 30), <, 16000);
  }
  {
    WkpSourceSpec spec = { seq, mp3, { 0, 0 } };
    g_autoptr(WkpClipAudio) clip = wkp_clip_audio_load (&spec, 16000, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (clip->fps.num, ==, 25);
    g_assert_cmpint (clip->n_frames, ==, 363);
    g_assert_cmpint (clip->audio->n_samples, ==, 232448);
  }
  {
    WkpSourceSpec spec = { NULL, mp3, { 30000, 1001 } };
    g_autoptr(WkpClipAudio) clip = wkp_clip_audio_load (&spec, 16000, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (clip->video_info);
    g_assert_cmpint (clip->n_frames, ==, wkp_frames_for_samples (232448, WKP_RATIONAL (30000, 1001), 16000));
  }
  {
    /* silent video without --audio: its companion WAV (../wav/X.wav), the
     * same samples as given explicitly, aligned the same way */
    WkpSourceSpec spec = { video, NULL, { 0, 0 } };
    WkpSourceSpec given = { video, wav, { 0, 0 } };
    g_autoptr(WkpClipAudio) paired = wkp_clip_audio_load (&spec, 16000, NULL, &error);
    g_autoptr(WkpClipAudio) explicit_ = NULL;
    g_assert_no_error (error);
    explicit_ = wkp_clip_audio_load (&given, 16000, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (paired->companion);
    g_assert_false (explicit_->companion);
    g_assert_true (g_str_has_suffix (paired->audio_source, "wav/Obama_clip1.wav"));
    g_assert_cmpint (paired->audio->n_samples, ==, explicit_->audio->n_samples);
    g_assert_cmpmem (paired->audio->samples, paired->audio->n_samples * sizeof (float), explicit_->audio->samples,
                     explicit_->audio->n_samples * sizeof (float));
  }
  {
    /* with no WAV beside it: a clear error that says what to do */
    g_autofree char *tmp = wkp_test_tmpdir ();
    g_autofree char *alone = g_build_filename (tmp, "alone.mp4", NULL);
    WkpSourceSpec spec = { alone, NULL, { 0, 0 } };
    g_assert_no_errno (symlink (video, alone));
    g_assert_null (wkp_clip_audio_load (&spec, 16000, NULL, &error));
    g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "alone.mp4"));
    g_assert_nonnull (strstr (error->message, "--audio"));
  }
}

/* ffmpeg's own RGB24 decode of @path through the video filter @filter (at
 * most @max_frames frames; 0: all), written to a file so that the binary
 * output keeps its length. */
static guint8 *
ffmpeg_rgb24 (const char *path, const char *filter, int max_frames, gsize *len)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *raw = g_build_filename (dir, "frames.rgb", NULL);
  g_autofree char *frames = g_strdup_printf ("%d", max_frames > 0 ? max_frames : G_MAXINT);
  const char *argv[] = { "ffmpeg", "-v", "error", "-i", path, "-vf", filter, "-frames:v", frames,
                         "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", raw, NULL };
  char *out = NULL;
  int status;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (g_file_get_contents (raw, &out, len, NULL));
  g_unlink (raw);
  g_rmdir (dir);
  return (guint8 *) out;
}

/* ffmpeg's own RGB24 decode of frame @index. */
static guint8 *
ffmpeg_frame (const char *path, gint64 index, gsize *len)
{
  g_autofree char *select = g_strdup_printf ("select=eq(n\\,%" G_GINT64_FORMAT ")", index);
  return ffmpeg_rgb24 (path, select, 1, len);
}

static void
check_reader (const char *rel, gint64 compare_index)
{
  g_autofree char *path = wkp_test_shared_file (rel);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpVideoReader) r = NULL;
  g_autoptr(WkpMediaInfo) info = NULL;
  g_autofree guint8 *saved = NULL;
  WkpFrame f;
  gint64 n = 0;
  gsize frame_bytes = 0;
  int w = 0, h = 0;

  if (path == NULL)
    return;
  info = wkp_media_probe (path, WKP_RATIONAL (0, 0), WKP_PROBE_COUNT_FRAMES, &error);
  g_assert_no_error (error);
  r = wkp_video_reader_open (path, WKP_RATIONAL (0, 0), WKP_PIXEL_RGB24, &error);
  g_assert_no_error (error);
  while (wkp_video_reader_next (r, &f, &error))
    {
      g_assert_cmpint (f.index, ==, n);
      g_assert_cmpint (f.time_us, ==, wkp_frame_to_us (n, info->fps));
      /* stream timestamps agree with the exact grid within half a frame */
      if (f.pts_us >= 0)
        g_assert_cmpint (ABS (f.pts_us - f.time_us), <=, wkp_frame_to_us (1, info->fps) / 2);
      if (n == compare_index)
        {
          w = f.width;
          h = f.height;
          frame_bytes = (gsize) w * h * 3;
          saved = g_malloc (frame_bytes);
          for (int y = 0; y < h; y++)
            memcpy (saved + (gsize) y * w * 3, f.data + (gsize) y * f.stride, (gsize) w * 3);
        }
      n++;
    }
  g_assert_no_error (error);
  /* every frame decoded, as many as FFmpeg counts */
  g_assert_cmpint (n, ==, info->n_frames);

  /* pixels agree with ffmpeg's own decode */
  {
    gsize len;
    g_autofree guint8 *ref = ffmpeg_frame (path, compare_index, &len);
    double sum = 0;
    g_assert_cmpuint (len, ==, frame_bytes);
    for (gsize i = 0; i < frame_bytes; i++)
      sum += ABS ((int) saved[i] - (int) ref[i]);
    g_test_message ("%s frame %" G_GINT64_FORMAT ": mean abs difference to ffmpeg %.3f", rel, compare_index,
                    sum / frame_bytes);
    g_assert_cmpfloat (sum / frame_bytes, <, 3.0);
  }

  /* a seek lands on the requested frame with identical pixels */
  g_assert_true (wkp_video_reader_seek (r, compare_index, &error));
  g_assert_no_error (error);
  g_assert_true (wkp_video_reader_next (r, &f, &error));
  g_assert_cmpint (f.index, ==, compare_index);
  for (int y = 0; y < h; y++)
    g_assert_cmpmem (f.data + (gsize) y * f.stride, (gsize) w * 3, saved + (gsize) y * w * 3, (gsize) w * 3);
  /* and back to the start */
  g_assert_true (wkp_video_reader_seek (r, 0, &error));
  g_assert_true (wkp_video_reader_next (r, &f, &error));
  g_assert_cmpint (f.index, ==, 0);
}

/* ffmpeg's own resampling of @path to @fps on a grid from its first
 * picture (setpts=PTS-STARTPTS, then the fps filter with round=near), as
 * RGB24 frames. */
static guint8 *
ffmpeg_grid_frames (const char *path, WkpRational fps, gsize *len)
{
  g_autofree char *filter = g_strdup_printf ("setpts=PTS-STARTPTS,fps=%d/%d:round=near", fps.num, fps.den);
  return ffmpeg_rgb24 (path, filter, 0, len);
}

/* A video with irregular timing (@path) is read on its constant grid: frame
 * k is the picture on screen at k/fps. Each frame equals, bit for bit, the
 * frame FFmpeg's fps filter gives (round=near, from the first picture); the
 * count is the last picture's grid frame + 1 from ffprobe's timestamps (the
 * filter ends at most one frame earlier); pictures repeat over gaps and
 * drop where they crowd; and a seek lands on the frame reading through
 * gives. */
static void
check_grid_reader (const char *path, const gint64 *seeks, guint n_seeks)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpVideoReader) r = NULL;
  g_autoptr(GHashTable) shown = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autofree guint8 *ref = NULL, *all = NULL;
  const WkpMediaInfo *info;
  gsize ref_len, frame_bytes = 0;
  gint64 n = 0, n_ref, repeats = 0, prev_pts = -1, grid;
  WkpFrame f;

  r = wkp_video_reader_open (path, WKP_RATIONAL (0, 0), WKP_PIXEL_RGB24, &error);
  g_assert_no_error (error);
  info = wkp_video_reader_get_info (r);
  g_assert_true (info->resampled);
  grid = ffprobe_grid_frames (path);
  g_assert_cmpint (info->n_frames, ==, grid);
  ref = ffmpeg_grid_frames (path, info->fps, &ref_len);
  frame_bytes = (gsize) info->width * info->height * 3;
  g_assert_cmpuint (ref_len % frame_bytes, ==, 0);
  n_ref = ref_len / frame_bytes;
  g_assert_cmpint (n_ref, >=, info->n_frames - 1);
  g_assert_cmpint (n_ref, <=, info->n_frames);
  all = g_malloc (frame_bytes * info->n_frames);
  while (wkp_video_reader_next (r, &f, &error))
    {
      g_assert_cmpint (f.index, ==, n);
      g_assert_cmpint (f.time_us, ==, wkp_frame_to_us (n, info->fps));
      /* the picture shown started within half a frame after the frame's
       * start, or earlier */
      g_assert_cmpint (f.pts_us, <=, f.time_us + wkp_frame_to_us (1, info->fps) / 2);
      repeats += f.pts_us == prev_pts;
      prev_pts = f.pts_us;
      g_hash_table_add (shown, g_memdup2 (&f.pts_us, sizeof f.pts_us));
      for (int y = 0; y < f.height; y++)
        memcpy (all + n * frame_bytes + (gsize) y * f.width * 3, f.data + (gsize) y * f.stride, (gsize) f.width * 3);
      if (n < n_ref)
        for (int y = 0; y < f.height; y++)
          g_assert_cmpmem (f.data + (gsize) y * f.stride, (gsize) f.width * 3,
                           ref + n * frame_bytes + (gsize) y * f.width * 3, (gsize) f.width * 3);
      n++;
    }
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, info->n_frames);
  g_test_message ("%s: %" G_GINT64_FORMAT " frames on a %.3f fps grid from %" G_GINT64_FORMAT " pictures "
                  "(%" G_GINT64_FORMAT " repeated, %" G_GINT64_FORMAT " dropped), up to %.1f ms off; ffmpeg's fps "
                  "filter: %" G_GINT64_FORMAT " frames, the same pixels", path, n, wkp_rational_to_double (info->fps),
                  info->n_decoded, repeats, info->n_decoded - (gint64) g_hash_table_size (shown),
                  info->timing_error_us / 1000.0, n_ref);
  g_assert_cmpint (repeats, >, 0);
  g_assert_cmpint ((gint64) g_hash_table_size (shown), <, info->n_decoded);   /* some dropped */
  /* as the probe counts them (for its notes) */
  g_assert_cmpint (info->n_shown, ==, (gint64) g_hash_table_size (shown));
  g_assert_cmpint (info->n_frames - info->n_shown, ==, repeats);

  for (guint i = 0; i < n_seeks; i++)
    {
      gint64 k = seeks[i] < 0 ? info->n_frames + seeks[i] : seeks[i];
      g_assert_true (wkp_video_reader_seek (r, k, &error));
      g_assert_no_error (error);
      g_assert_true (wkp_video_reader_next (r, &f, &error));
      g_assert_cmpint (f.index, ==, k);
      for (int y = 0; y < f.height; y++)
        g_assert_cmpmem (f.data + (gsize) y * f.stride, (gsize) f.width * 3,
                         all + k * frame_bytes + (gsize) y * f.width * 3, (gsize) f.width * 3);
      if (k + 1 < info->n_frames)
        {
          /* and reading goes on from there */
          g_assert_true (wkp_video_reader_next (r, &f, &error));
          g_assert_cmpint (f.index, ==, k + 1);
          for (int y = 0; y < f.height; y++)
            g_assert_cmpmem (f.data + (gsize) y * f.stride, (gsize) f.width * 3,
                             all + (k + 1) * frame_bytes + (gsize) y * f.width * 3, (gsize) f.width * 3);
        }
    }
  /* past the end */
  g_assert_true (wkp_video_reader_seek (r, info->n_frames, &error));
  g_assert_false (wkp_video_reader_next (r, &f, &error));
  g_assert_no_error (error);
}

/* Runs ffmpeg with @args (NULL-terminated, after "ffmpeg -v error -y"),
 * asserting success. */
static void
run_ffmpeg (const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  int status;
  g_ptr_array_add (argv, (gpointer) "ffmpeg");
  g_ptr_array_add (argv, (gpointer) "-v");
  g_ptr_array_add (argv, (gpointer) "error");
  g_ptr_array_add (argv, (gpointer) "-y");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                               &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

/* Made here with ffmpeg (no shared data needed): 3 s of a 25 fps test
 * pattern with every 7th picture left out (gaps) and every 9th moved 24 ms
 * later (two pictures in one frame), in Matroska with FFV1; 6 s of H.264
 * with B-frames whose first pictures crowd into 10 ms, so that two pictures
 * lie exactly half a frame between grid frames at its 1875/74 fps average
 * (a tie goes to the later frame, as FFmpeg's filter rounds: found in
 * review); and the real variable-rate clip of the corpus (H.264 with
 * B-frames, seeks into a group of pictures). */
static void
test_reader_irregular_grid (void)
{
  static const gint64 seeks_synth[] = { 0, 3, 4, 12, 13, 40, -1, 20, 2 };
  static const gint64 seeks_ties[] = { 37, 36, 38, 112, 113, 111, 0, -1, 70 };
  static const gint64 seeks_real[] = { 12, 13, 26, 100, 0, -1, 60 };
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *ties = g_build_filename (dir, "ties.mp4", NULL);
  const char *make_ties[] = { "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25:duration=6", "-vf",
                              "settb=1/1000,setpts='if(lt(N\\,3)\\,N*5\\,N*40)'", "-fps_mode", "passthrough",
                              "-c:v", "libx264", "-bf", "3", "-g", "24", ties, NULL };
  g_autofree char *made = g_build_filename (dir, "vfr.mkv", NULL);
  g_autofree char *real = wkp_test_shared_file ("av/OpenTalker__video-retalking/examples/face/1.mp4");
  const char *argv[] = { "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=25:duration=3",
                         "-vf", "settb=1/1000,select='not(eq(mod(n\\,7)\\,3))',setpts='PTS+if(eq(mod(N\\,9)\\,4)\\,0.024/TB\\,0)'",
                         "-fps_mode", "passthrough", "-c:v", "ffv1", "-y", made, NULL };
  int status;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                               NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  check_grid_reader (made, seeks_synth, G_N_ELEMENTS (seeks_synth));
  run_ffmpeg (make_ties);
  check_grid_reader (ties, seeks_ties, G_N_ELEMENTS (seeks_ties));
  g_unlink (ties);
  if (real != NULL)
    check_grid_reader (real, seeks_real, G_N_ELEMENTS (seeks_real));
  else
    g_test_message ("../shared absent: only the generated video checked");
  g_unlink (made);
  g_rmdir (dir);
}

/* Timestamps that jump are not a variable rate: two 2 s MPEG-TS files
 * joined, the second stamped 10 minutes later (forward), or starting again
 * at 0 (back), are read one picture per frame (100 frames from 100
 * pictures; resampled, the first read as 15,000 frames of one repeated
 * picture), with a note that says they jump; seeks agree with reading
 * through. Found in review. */
static void
test_reader_timestamp_jumps (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *a = g_build_filename (dir, "a.ts", NULL), *b = g_build_filename (dir, "b.ts", NULL);
  g_autofree char *c = g_build_filename (dir, "c.ts", NULL);
  const char *make_a[] = { "-f", "lavfi", "-i", "testsrc=size=96x64:rate=25:duration=2", "-c:v", "mpeg2video",
                           "-muxdelay", "0", a, NULL };
  const char *make_b[] = { "-f", "lavfi", "-i", "testsrc=size=96x64:rate=25:duration=2", "-c:v", "mpeg2video",
                           "-muxdelay", "0", "-output_ts_offset", "600", b, NULL };
  const char *make_c[] = { "-f", "lavfi", "-i", "testsrc=size=96x64:rate=25:duration=2", "-c:v", "mpeg2video",
                           "-muxdelay", "0", c, NULL };
  run_ffmpeg (make_a);
  run_ffmpeg (make_b);
  run_ffmpeg (make_c);
  for (int back = 0; back < 2; back++)
    {
      g_autofree char *joined = g_build_filename (dir, back ? "back.ts" : "forward.ts", NULL);
      g_autofree char *first = NULL, *second = NULL, *both = NULL, *note = NULL;
      gsize n1, n2;
      g_autoptr(GError) error = NULL;
      g_autoptr(WkpMediaInfo) info = NULL;
      g_autoptr(WkpVideoReader) r = NULL;
      g_autoptr(GArray) sums = g_array_new (FALSE, FALSE, sizeof (guint64));
      WkpFrame f;
      gint64 n = 0;

      g_assert_true (g_file_get_contents (a, &first, &n1, NULL));
      g_assert_true (g_file_get_contents (back ? c : b, &second, &n2, NULL));
      both = g_malloc (n1 + n2);
      memcpy (both, first, n1);
      memcpy (both + n1, second, n2);
      g_assert_true (g_file_set_contents (joined, both, (gssize) (n1 + n2), NULL));
      info = wkp_media_probe (joined, WKP_RATIONAL (0, 0), WKP_PROBE_COUNT_FRAMES, &error);
      g_assert_no_error (error);
      note = wkp_media_timing_note (info);
      g_test_message ("%s: %" G_GINT64_FORMAT " frames from %" G_GINT64_FORMAT " pictures; %s", joined,
                      info->n_frames, info->n_decoded, note ? note : "no note");
      g_assert_false (info->resampled);
      g_assert_true (info->timing_jumps);
      g_assert_cmpint (info->n_frames, ==, info->n_decoded);
      g_assert_cmpint (info->n_frames, ==, 100);
      g_assert_nonnull (note);
      g_assert_nonnull (strstr (note, "the frames' timestamps jump"));
      r = wkp_video_reader_open (joined, WKP_RATIONAL (0, 0), WKP_PIXEL_GRAY8, &error);
      g_assert_no_error (error);
      while (wkp_video_reader_next (r, &f, &error))
        {
          guint64 s = 0;
          for (int y = 0; y < f.height; y++)
            for (int x = 0; x < f.width; x++)
              s = s * 31 + f.data[(gsize) y * f.stride + x];
          g_assert_cmpint (f.index, ==, n);
          g_array_append_val (sums, s);
          n++;
        }
      g_assert_no_error (error);
      g_assert_cmpint (n, ==, 100);
      /* within the first file, a seek lands on the frame reading gives */
      for (gint64 k = 10; k < 50; k += 13)
        {
          guint64 s = 0;
          g_assert_true (wkp_video_reader_seek (r, k, &error));
          g_assert_true (wkp_video_reader_next (r, &f, &error));
          g_assert_cmpint (f.index, ==, k);
          for (int y = 0; y < f.height; y++)
            for (int x = 0; x < f.width; x++)
              s = s * 31 + f.data[(gsize) y * f.stride + x];
          g_assert_cmpuint (s, ==, g_array_index (sums, guint64, k));
        }
      g_unlink (joined);
    }
  g_unlink (a), g_unlink (b), g_unlink (c);
  g_rmdir (dir);
}

static void
test_reader (void)
{
  check_reader (GRID_MPG, 40);
  check_reader (GRID_MPG_JUMP, 74);
  check_reader (GRID_MPG_JUMP, 50);
  check_reader (NTSC_MP4, 131);
  check_reader (SEQ_JPG, 100);
}

/* The Matroska copy the studio plays MPEG-PS through: the same frames
 * (stream copy: identical pixels), timestamps on the frame grid from 0 (also
 * for the news clip, which starts at 0.52 s), the same audio; a file that is
 * not media is refused and leaves no copy behind. */
static void
check_remux (const char *relative)
{
  g_autofree char *path = wkp_test_shared_file (relative);
  g_autofree char *dir = NULL, *copy = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpVideoReader) a = NULL, b = NULL;
  g_autoptr(WkpAudio) aa = NULL, ab = NULL;
  WkpFrame fa, fb;
  gint64 n = 0, na = 0;
  double max_diff = 0;

  if (path == NULL)
    return;
  dir = wkp_test_tmpdir ();
  copy = g_build_filename (dir, "copy.mkv", NULL);
  g_assert_true (wkp_media_remux (path, copy, NULL, &error));
  g_assert_no_error (error);
  a = wkp_video_reader_open (path, WKP_RATIONAL (0, 0), WKP_PIXEL_RGB24, &error);
  g_assert_no_error (error);
  b = wkp_video_reader_open (copy, WKP_RATIONAL (0, 0), WKP_PIXEL_RGB24, &error);
  g_assert_no_error (error);
  {
    /* the earliest stream starts at 0; audio and video keep their offset */
    const WkpMediaInfo *ia = wkp_video_reader_get_info (a), *ib = wkp_video_reader_get_info (b);
    g_assert_cmpint (MIN (ib->video_start_us, ib->audio_start_us), <=, 1000);
    g_assert_cmpint (ABS ((ib->video_start_us - ib->audio_start_us) - (ia->video_start_us - ia->audio_start_us)), <=,
                     1000);
    /* the copy's millisecond timestamps make FFmpeg's average rate 1000/33
     * for the news clip's 30 fps: the counted probe reads them at the base
     * rate, as regular (not resampled onto a 30.303 fps grid) */
    g_assert_cmpint (ib->fps.num, ==, ia->fps.num);
    g_assert_cmpint (ib->fps.den, ==, ia->fps.den);
    g_assert_false (ib->resampled);
    g_assert_cmpint (ib->n_frames, ==, ia->n_frames);
  }
  for (;;)
    {
      gboolean more_a = wkp_video_reader_next (a, &fa, &error);
      g_assert_no_error (error);
      gboolean more_b = wkp_video_reader_next (b, &fb, &error);
      g_assert_no_error (error);
      g_assert_cmpint (more_a, ==, more_b);
      if (!more_a)
        break;
      g_assert_cmpint (fa.index, ==, fb.index);
      g_assert_cmpint (fa.width, ==, fb.width);
      g_assert_cmpint (ABS (fb.pts_us - fa.pts_us), <=, 1000);
      for (int y = 0; y < fa.height; y++)
        g_assert_cmpmem (fa.data + (gsize) y * fa.stride, (gsize) fa.width * 3, fb.data + (gsize) y * fb.stride,
                         (gsize) fb.width * 3);
      n++;
    }
  g_assert_cmpint (n, >, 50);
  aa = wkp_audio_load (path, 16000, NULL, NULL, &error);
  g_assert_no_error (error);
  ab = wkp_audio_load (copy, 16000, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ABS (aa->n_samples - ab->n_samples), <=, 160);
  na = MIN (aa->n_samples, ab->n_samples);
  for (gint64 i = 0; i < na; i++)
    max_diff = MAX (max_diff, fabs (aa->samples[i] - ab->samples[i]));
  g_test_message ("%s: %" G_GINT64_FORMAT " frames copied, audio %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT
                  " samples, max difference %.2g", relative, n, aa->n_samples, ab->n_samples, max_diff);
  g_assert_cmpfloat (max_diff, <, 1e-6);
}

static void
test_remux (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *text = g_build_filename (dir, "notes.mpg", NULL);
  g_autofree char *out = g_build_filename (dir, "out.mkv", NULL);
  g_autoptr(GError) error = NULL;

  check_remux (GRID_MPG_JUMP);
  check_remux (NEWS_MPG);
  {
    /* a cancelled copy stops with WKP_ERROR_CANCELLED and leaves nothing */
    g_autofree char *mpg = wkp_test_shared_file (GRID_MPG_JUMP);
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    if (mpg != NULL)
      {
        g_assert_true (wkp_media_is_mpeg_ps (mpg));
        g_cancellable_cancel (cancellable);
        g_assert_false (wkp_media_remux (mpg, out, cancellable, &error));
        g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_CANCELLED);
        g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
        g_clear_error (&error);
      }
  }
  g_assert_true (g_file_set_contents (text, "this is not a video at all, just some words\n", -1, NULL));
  g_assert_false (wkp_media_is_mpeg_ps (text));
  g_assert_false (wkp_media_is_mpeg_ps (out));   /* does not exist */
  g_assert_false (wkp_media_remux (text, out, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, text));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_reader_gray_vidtimit (void)
{
  g_autofree char *path = wkp_test_shared_file (VIDTIMIT);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpVideoReader) r = NULL;
  WkpFrame f;
  gint64 n = 0;

  if (path == NULL)
    return;
  r = wkp_video_reader_open (path, WKP_RATIONAL (25, 1), WKP_PIXEL_GRAY8, &error);
  g_assert_no_error (error);
  while (wkp_video_reader_next (r, &f, &error))
    {
      g_assert_cmpint (f.width, ==, 512);
      g_assert_cmpint (f.height, ==, 384);
      g_assert_cmpint (f.stride, >=, 512);
      n++;
    }
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 119);
}

/* One frame of an image sequence gives the sequence's pattern (temporary
 * files: names with prefix/suffix, a start in 0..5, no neighbour, a start too
 * late for the reader; then the shared VidTIMIT frames without extension). */
static void
test_sequence_for_frame (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *vid = wkp_test_shared_file (VIDTIMIT);
  struct { const char *name; } files[] = {
    { "img_0001.png" }, { "img_0002.png" }, { "img_0003.png" },   /* a sequence from 1 */
    { "take7.jpg" },                                            /* alone: no neighbour */
    { "late_000100.jpg" }, { "late_000101.jpg" },              /* starts at 100 (an excerpt) */
    { "late_12.jpg" },                                          /* not a %06d name: not part of it */
  };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (dir, files[i].name, NULL);
      g_assert_true (g_file_set_contents (p, "x", 1, NULL));
    }
  {
    g_autofree char *frame = g_build_filename (dir, "img_0002.png", NULL);
    g_autofree char *want = g_build_filename (dir, "img_%04d.png", NULL);
    g_autofree char *got = wkp_media_sequence_for_frame (frame);
    g_assert_cmpstr (got, ==, want);
  }
  {
    g_autofree char *frame = g_build_filename (dir, "img_0003.png", NULL);   /* the last frame: a previous one */
    g_autofree char *got = wkp_media_sequence_for_frame (frame);
    g_assert_nonnull (got);
  }
  {
    g_autofree char *alone = g_build_filename (dir, "take7.jpg", NULL);
    g_autofree char *missing = g_build_filename (dir, "img_0009.png", NULL);
    g_assert_null (wkp_media_sequence_for_frame (alone));
    g_assert_null (wkp_media_sequence_for_frame (missing));
  }
  {
    /* a sequence starting past 5 (`wav2kp frames --start 99` writes 000100.jpg
     * on): found by its folder, two frames from 100 ("late_12.jpg" is no
     * "%06d" name); the folder's other files do not count */
    g_autofree char *late = g_build_filename (dir, "late_000101.jpg", NULL);
    g_autofree char *want = g_build_filename (dir, "late_%06d.jpg", NULL);
    g_autofree char *got = wkp_media_sequence_for_frame (late);
    g_autoptr(GError) error = NULL;
    g_autoptr(WkpMediaInfo) info = NULL;
    g_assert_cmpstr (got, ==, want);
    /* the files hold no picture: probing reaches the first one, 000100 */
    info = wkp_media_probe (want, WKP_RATIONAL (25, 1), 0, &error);
    g_assert_null (info);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "late_000100.jpg"));
  }
  if (vid != NULL)
    {
      /* VidTIMIT: ".../sa1/%03d"; pick frame 042 and get the pattern the reader opens */
      g_autofree char *frame_dir = g_path_get_dirname (vid);
      g_autofree char *frame = g_build_filename (frame_dir, "042", NULL);
      g_autofree char *got = wkp_media_sequence_for_frame (frame);
      g_autoptr(WkpMediaInfo) info = NULL;
      g_autoptr(GError) error = NULL;
      g_assert_cmpstr (got, ==, vid);
      info = wkp_media_probe (got, WKP_RATIONAL (25, 1), 0, &error);
      g_assert_no_error (error);
      g_assert_true (info->is_image_sequence);
    }
}

static void
test_bad_files (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *empty = g_build_filename (dir, "empty.mp4", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.mp4", NULL);
  g_autofree char *pattern = g_build_filename (dir, "frames/%06d.jpg", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_true (g_file_set_contents (text, "this is not a video at all, just some words\n", -1, NULL));

  g_assert_null (wkp_media_probe ("/nonexistent/clip.mp4", WKP_RATIONAL (0, 0), 0, &error));
  g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/clip.mp4"));
  g_clear_error (&error);

  g_assert_null (wkp_media_probe (empty, WKP_RATIONAL (0, 0), 0, &error));
  g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "empty"));
  g_clear_error (&error);

  /* files named like JPEGs that hold none: refused, not a 0x0 sequence */
  {
    g_autofree char *seq_dir = g_build_filename (dir, "notjpeg", NULL);
    g_autofree char *f1 = g_build_filename (seq_dir, "000001.jpg", NULL);
    g_autofree char *f2 = g_build_filename (seq_dir, "000002.jpg", NULL);
    g_autofree char *seq = g_build_filename (seq_dir, "%06d.jpg", NULL);
    g_assert_cmpint (g_mkdir_with_parents (seq_dir, 0755), ==, 0);
    g_assert_true (g_file_set_contents (f1, "x", -1, NULL));
    g_assert_true (g_file_set_contents (f2, "y", -1, NULL));
    g_assert_null (wkp_media_probe (seq, WKP_RATIONAL (25, 1), 0, &error));
    g_assert_nonnull (error);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "000001.jpg"));
    g_clear_error (&error);
  }

  /* a sequence with a gap is refused naming the missing frame (the frames
   * after it were dropped: a 3 s clip read as 4 frames, exit 0) */
  {
    g_autofree char *seq_dir = g_build_filename (dir, "gap", NULL);
    g_autofree char *seq = g_build_filename (seq_dir, "%06d.jpg", NULL);
    g_autofree char *src = wkp_test_shared_file (SEQ_JPG);
    g_assert_cmpint (g_mkdir_with_parents (seq_dir, 0755), ==, 0);
    if (src != NULL)
      {
        g_autofree char *f1 = g_strdup_printf (src, 1);
        g_autofree char *data = NULL;
        gsize len;
        g_assert_true (g_file_get_contents (f1, &data, &len, NULL));
        for (int k = 1; k <= 8; k++)
          if (k != 5)
            {
              g_autofree char *name = g_strdup_printf ("%06d.jpg", k);
              g_autofree char *f = g_build_filename (seq_dir, name, NULL);
              g_assert_true (g_file_set_contents (f, data, len, NULL));
            }
        g_assert_null (wkp_media_probe (seq, WKP_RATIONAL (25, 1), 0, &error));
        g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID);
        g_test_message ("%s", error->message);
        g_assert_nonnull (strstr (error->message, "000005.jpg is missing"));
        g_clear_error (&error);
      }
  }

  /* a video outside 1..1000 fps is refused when read, as every sidecar and
   * model refuses such rates (a 1200 fps clip's landmarks could not be read
   * back); `probe` still describes it */
  {
    const char *rates[] = { "1200", "1/2" };
    for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
      {
        g_autofree char *src = g_strdup_printf ("testsrc=size=64x64:rate=%s", rates[i]);
        g_autofree char *name = g_strdup_printf ("rate%u.mp4", i);
        g_autofree char *out = g_build_filename (dir, name, NULL);
        const char *argv[] = { "ffmpeg", "-v", "error", "-f", "lavfi", "-i", src, "-t", i == 0 ? "0.1" : "6",
                               "-pix_fmt", "yuv420p", out, NULL };
        g_autoptr(WkpMediaInfo) info = NULL;
        g_autoptr(WkpVideoReader) reader = NULL;
        WkpSourceSpec spec = { out, NULL, { 0, 0 } };
        int status;
        g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                                     &status, NULL));
        g_assert_true (g_spawn_check_wait_status (status, NULL));
        info = wkp_media_probe (out, WKP_RATIONAL (0, 0), 0, &error);
        g_assert_no_error (error);
        reader = wkp_video_reader_open (out, WKP_RATIONAL (0, 0), WKP_PIXEL_GRAY8, &error);
        g_assert_null (reader);
        g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED);
        g_assert_nonnull (strstr (error->message, "outside the 1 to 1000 fps"));
        g_clear_error (&error);
        g_assert_null (wkp_clip_audio_load (&spec, 16000, NULL, &error));
        g_assert_nonnull (error);
        g_assert_nonnull (strstr (error->message, "outside the 1 to 1000 fps"));   /* before "no audio" */
        g_clear_error (&error);
      }
  }

  /* a pipe named like a video is refused at once (reading it would wait) */
  {
    g_autofree char *fifo = g_build_filename (dir, "pipe.mp4", NULL);
    g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
    g_assert_null (wkp_media_probe (fifo, WKP_RATIONAL (0, 0), 0, &error));
    g_assert_nonnull (strstr (error->message, "is not a regular file"));
    g_clear_error (&error);
  }

  /* an absurd pattern width is refused like any pattern matching no file
   * (it used to build gigabyte paths, or overflow) */
  {
    g_autofree char *wide = g_build_filename (dir, "%1500000000d.jpg", NULL);
    g_autofree char *wider = g_build_filename (dir, "%99999999999d.jpg", NULL);
    g_assert_null (wkp_media_probe (wide, WKP_RATIONAL (25, 1), 0, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    g_assert_null (wkp_media_probe (wider, WKP_RATIONAL (25, 1), 0, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
  }

  /* NaN and infinite samples of a float WAV read as silence */
  {
    g_autofree char *wav = g_build_filename (dir, "nan.wav", NULL);
    g_autoptr(WkpAudio) a = NULL;
    const guint32 n = 1600;
    guint8 header[44];
    g_autofree float *pcm = g_new (float, n);
    g_autoptr(GString) bytes = g_string_new (NULL);
    guint32 u32;
    guint16 u16;
    for (guint32 i = 0; i < n; i++)
      pcm[i] = 0.25f * sinf (i * 0.1f);
    pcm[100] = NAN;
    pcm[200] = INFINITY;
    pcm[300] = -INFINITY;
#define PUT32(v) (u32 = GUINT32_TO_LE (v), g_string_append_len (bytes, (const char *) &u32, 4))
#define PUT16(v) (u16 = GUINT16_TO_LE (v), g_string_append_len (bytes, (const char *) &u16, 2))
    g_string_append (bytes, "RIFF");
    PUT32 (36 + n * 4);
    g_string_append (bytes, "WAVEfmt ");
    PUT32 (16);
    PUT16 (3);          /* IEEE float */
    PUT16 (1);
    PUT32 (16000);
    PUT32 (16000 * 4);
    PUT16 (4);
    PUT16 (32);
    g_string_append (bytes, "data");
    PUT32 (n * 4);
#undef PUT32
#undef PUT16
    g_assert_cmpuint (bytes->len, ==, sizeof header);
    g_string_append_len (bytes, (const char *) pcm, n * 4);
    g_assert_true (g_file_set_contents (wav, bytes->str, bytes->len, NULL));
    a = wkp_audio_load (wav, 16000, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (a->n_samples, ==, n);
    for (gint64 i = 0; i < a->n_samples; i++)
      g_assert_true (isfinite (a->samples[i]));
    g_assert_cmpfloat (a->samples[100], ==, 0.0f);
    g_assert_cmpfloat (fabsf (a->samples[50] - pcm[50]), <, 1e-6f);
  }

  /* a folder: a pattern is suggested, unless it is a prepared dataset */
  g_assert_null (wkp_media_probe (dir, WKP_RATIONAL (0, 0), 0, &error));
  g_assert_nonnull (strstr (error->message, "%06d.jpg"));
  g_clear_error (&error);
  {
    g_autofree char *manifest = g_build_filename (dir, "dataset.json", NULL);
    g_assert_true (g_file_set_contents (manifest, "{}", -1, NULL));
    g_assert_null (wkp_media_probe (dir, WKP_RATIONAL (0, 0), 0, &error));
    g_assert_nonnull (strstr (error->message, "is a prepared dataset, not a clip"));
    g_clear_error (&error);
    g_unlink (manifest);
  }

  g_assert_null (wkp_audio_load (text, 16000, NULL, NULL, &error));
  g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "notes.mp4"));
  g_clear_error (&error);

  g_assert_null (wkp_video_reader_open (pattern, WKP_RATIONAL (0, 0), WKP_PIXEL_RGB24, &error));
  g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "matches no file"));
  g_clear_error (&error);

  g_assert_null (wkp_media_probe (dir, WKP_RATIONAL (0, 0), 0, &error));
  g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID);
  g_clear_error (&error);

  /* WAV headers: 2 s of 16 kHz mono s16 said to be at 1 Hz (decoding it
   * would take hours of memory), and a header with no samples */
  {
    g_autofree char *slow = g_build_filename (dir, "rate1.wav", NULL);
    g_autofree char *none = g_build_filename (dir, "header-only.wav", NULL);
    guint8 wav[44 + 64000] = { 0 };
    const guint32 rate = 1, data_len = 64000;
    memcpy (wav, "RIFF", 4);
    wav[4] = (guint8) ((36 + data_len) & 0xff); wav[5] = (guint8) (((36 + data_len) >> 8) & 0xff);
    wav[6] = (guint8) (((36 + data_len) >> 16) & 0xff);
    memcpy (wav + 8, "WAVEfmt ", 8);
    wav[16] = 16; wav[20] = 1; wav[22] = 1;                 /* PCM, mono */
    memcpy (wav + 24, &rate, 4);
    wav[28] = 2; wav[32] = 2; wav[34] = 16;                 /* byte rate 2, block 2, 16 bits */
    memcpy (wav + 36, "data", 4);
    memcpy (wav + 40, &data_len, 4);
    for (int i = 0; i < 32000; i++)
      wav[44 + 2 * i + 1] = (guint8) (i % 64);
    g_assert_true (g_file_set_contents (slow, (const char *) wav, sizeof wav, NULL));
    g_assert_null (wkp_audio_load (slow, 16000, NULL, NULL, &error));
    g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "rate1.wav: audio sample rate 1 Hz is implausible"));
    g_clear_error (&error);

    memset (wav + 40, 0, 4);
    wav[24] = 0x80; wav[25] = 0x3e;                         /* 16000 Hz, no data */
    g_assert_true (g_file_set_contents (none, (const char *) wav, 44, NULL));
    g_assert_null (wkp_audio_load (none, 16000, NULL, NULL, &error));
    g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "header-only.wav: the audio stream has no samples"));
  }
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/probe-kinds", test_probe_kinds);
  g_test_add_func ("/media/frame-counts-corpus", test_frame_counts_corpus);
  g_test_add_func ("/media/audio-wav-exact", test_audio_wav_exact);
  g_test_add_func ("/media/audio-resampled", test_audio_resampled);
  g_test_add_func ("/media/audio-antiphase", test_audio_antiphase);
  g_test_add_func ("/media/file-sniff", test_file_sniff);
  g_test_add_func ("/media/clip-audio", test_clip_audio);
  g_test_add_func ("/media/reader", test_reader);
  g_test_add_func ("/media/reader-gray-vidtimit", test_reader_gray_vidtimit);
  g_test_add_func ("/media/remux", test_remux);
  g_test_add_func ("/media/bad-files", test_bad_files);
  g_test_add_func ("/media/sequence-for-frame", test_sequence_for_frame);
  g_test_add_func ("/media/timing-irregular", test_timing_irregular);
  g_test_add_func ("/media/reader-irregular-grid", test_reader_irregular_grid);
  g_test_add_func ("/media/reader-timestamp-jumps", test_reader_timestamp_jumps);
  return g_test_run ();
}
