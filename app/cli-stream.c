/* wav2kp stream [--model MODEL] [--rate HZ] [--channels N] [--format s16le|f32le]
 *               [--fps NUM/DEN] [--output-format csv|jsonl] [--threads N] [INPUT]
 *
 * Live prediction: audio arrives on standard input (a pipe from a recorder or
 * a decoder) and one line of keypoints per frame leaves on standard output as
 * soon as the audio it needs has arrived, flushed line by line. The engine's
 * WkpModelAudioStream does the work (features, normalisation, context, delay,
 * LSTM, head); this file reads PCM (raw, or a WAV stream whose header cannot
 * know the length), down-mixes, resamples with libswresample to the model's
 * rate, and interpolates the model's frames to --fps exactly as `predict`
 * does (wkp_model_resample: linear, at frame centres, clamped at the ends),
 * one frame at a time.
 *
 * The WAV header is parsed here rather than by libavformat: FFmpeg 5.1's WAV
 * demuxer reads 64 KB ahead before its first packet on a pipe (the S/PDIF
 * probe in wav_read_header), which held the first frame of 16 kHz mono audio
 * fed in real time back by 2 s. */
#include "wkp-cli.h"
#include "wkp-io.h"

#include <errno.h>
#include <fcntl.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAV_HEADER_MAX 65536
#define READ_CHUNK 8192

typedef enum { PCM_S16, PCM_F32 } PcmFormat;

/* The model's frames (PCA coefficients) interpolated at the centres of the
 * output frames, as wkp_model_resample() does on a whole track, emitted as
 * soon as the two frames around a centre are known. Keeps only the frames
 * the next output still needs. */
typedef struct {
  int         K;
  WkpRational in_fps, out_fps;
  GArray     *rows;      /* float [n_kept, K], frame base + i */
  gint64      base;      /* index of rows' first frame */
  gint64      n_in;      /* model frames received */
  gint64      next_out;  /* next output frame */
} Resampler;

/* Position of output frame @i in model frames: k0 and the fraction towards
 * k0 + 1; k0 = -1 before the first centre (clamped to frame 0). */
static void
resampler_position (const Resampler *r, gint64 i, gint64 *k0, double *frac)
{
  __int128 den = (__int128) 2 * r->out_fps.num * r->in_fps.den;
  __int128 num = (__int128) (2 * i + 1) * r->in_fps.num * r->out_fps.den - (__int128) r->out_fps.num * r->in_fps.den;

  if (num <= 0)
    {
      *k0 = -1;
      *frac = 0;
      return;
    }
  *k0 = (gint64) (num / den);
  *frac = (double) (num - (__int128) *k0 * den) / (double) den;
}

static const float *
resampler_row (const Resampler *r, gint64 k)
{
  g_assert (k >= r->base && k < r->base + (gint64) r->rows->len / r->K);
  return &g_array_index (r->rows, float, (k - r->base) * r->K);
}

/* Appends @n model frames and writes the output frames that became final
 * into @out (grown as needed); at the end of input (@total_out >= 0) writes
 * every remaining frame up to @total_out, clamping at the last model frame.
 * Returns the number written. */
static gint64
resampler_push (Resampler *r, const float *coeffs, gint64 n, gint64 total_out, GArray *out)
{
  gint64 written = 0, k0 = 0;
  double frac;

  g_array_append_vals (r->rows, coeffs, (guint) (n * r->K));
  r->n_in += n;
  for (;;)
    {
      float *o;
      if (total_out >= 0 && r->next_out >= total_out)
        break;
      resampler_position (r, r->next_out, &k0, &frac);
      if (total_out < 0 && (r->n_in < MAX (k0, 0) + 1 || (frac != 0 && r->n_in < k0 + 2)))
        break;   /* the frames around this centre have not arrived yet */
      if (r->n_in == 0)
        break;   /* no audio at all: nothing to interpolate */
      g_array_set_size (out, out->len + r->K);
      o = &g_array_index (out, float, out->len - r->K);
      if (k0 < 0)
        memcpy (o, resampler_row (r, 0), sizeof (float) * r->K);
      else if (k0 >= r->n_in - 1)
        memcpy (o, resampler_row (r, r->n_in - 1), sizeof (float) * r->K);
      else
        {
          const float *a = resampler_row (r, k0), *b = resampler_row (r, k0 + 1);
          for (int j = 0; j < r->K; j++)
            o[j] = (float) ((1.0 - frac) * a[j] + frac * b[j]);
        }
      r->next_out++;
      written++;
    }
  /* frames before the next output's k0 are no longer needed */
  resampler_position (r, r->next_out, &k0, &frac);
  k0 = MIN (MAX (k0, 0), MAX (r->n_in - 1, 0));
  if (k0 > r->base)
    {
      g_array_remove_range (r->rows, 0, (guint) ((k0 - r->base) * r->K));
      r->base = k0;
    }
  return written;
}

typedef struct {
  int          fd;
  const char  *name;           /* "standard input" or the path */
  gboolean     regular;        /* a regular file (else standard input or a FIFO) */
  PcmFormat    format;
  int          channels;
  int          rate;
  gint64       data_left;      /* bytes of WAV data still to read, -1: until the end */
  GByteArray  *pending;        /* bytes read, not yet whole frames of samples */
} Input;

static gssize
read_some (Input *in, guint8 *buf, gsize size, GError **error)
{
  for (;;)
    {
      gssize got = read (in->fd, buf, size);
      if (got >= 0)
        return got;
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          /* a standard input inherited in non-blocking mode: wait for data */
          struct pollfd pfd = { in->fd, POLLIN, 0 };
          if (poll (&pfd, 1, -1) >= 0 || errno == EINTR)
            continue;
        }
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", in->name, g_strerror (errno));
      return -1;
    }
}

/* What input that is not a WAV stream looks like, from its first bytes. */
static const char *
describe_start (const GByteArray *b)
{
  const guint8 *p = b->data;
  gsize n = b->len;
  if (n == 0)
    return "it is empty";
  if ((n >= 3 && memcmp (p, "ID3", 3) == 0) || (n >= 2 && p[0] == 0xff && (p[1] & 0xe0) == 0xe0))
    return "it starts like MP3 or AAC";
  if (n >= 4 && memcmp (p, "fLaC", 4) == 0)
    return "it starts like FLAC";
  if (n >= 4 && memcmp (p, "OggS", 4) == 0)
    return "it starts like Ogg";
  if (n >= 8 && memcmp (p + 4, "ftyp", 4) == 0)
    return "it starts like MP4 or MOV";
  if (n >= 4 && memcmp (p, "\x1a\x45\xdf\xa3", 4) == 0)
    return "it starts like Matroska or WebM";
  if (n >= 4 && memcmp (p, "\x00\x00\x01\xba", 4) == 0)
    return "it starts like MPEG";
  if (n >= 4 && memcmp (p, "FORM", 4) == 0)
    return "it starts like AIFF";
  return wkp_bytes_look_like_text (p, n) ? "it starts like text" : "no RIFF header";
}

static guint32
le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

/* Reads until @n bytes are pending (or the end: FALSE with no error). */
static gboolean
fill (Input *in, gsize n, GError **error)
{
  guint8 buf[READ_CHUNK];
  while (in->pending->len < n)
    {
      gssize got = read_some (in, buf, sizeof buf, error);
      if (got <= 0)
        return FALSE;
      g_byte_array_append (in->pending, buf, (guint) got);
    }
  return TRUE;
}

/* Drops @n bytes of input: what is pending first, then what is read. */
static gboolean
skip (Input *in, guint64 n, GError **error)
{
  guint8 buf[READ_CHUNK];
  guint64 now = MIN (n, (guint64) in->pending->len);

  g_byte_array_remove_range (in->pending, 0, (guint) now);
  n -= now;
  while (n > 0)
    {
      gssize got = read_some (in, buf, (gsize) MIN (n, (guint64) sizeof buf), error);
      if (got <= 0)
        return FALSE;
      n -= (guint64) got;
    }
  return TRUE;
}

static gboolean
header_ends (Input *in, GError **error)
{
  if (error != NULL && *error == NULL)
    g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: the WAV header ends before its data", in->name);
  return FALSE;
}

/* The "fmt " chunk's body @f of @size bytes. */
static gboolean
parse_fmt (Input *in, const guint8 *f, guint32 size, GError **error)
{
  static const guint8 guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
                                        0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };
  guint16 tag, bits, align;
  guint32 rate;

  if (size < 16)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: WAV “fmt ” chunk of %u bytes", in->name, size);
      return FALSE;
    }
  tag = le16 (f);
  in->channels = le16 (f + 2);
  rate = le32 (f + 4);
  align = le16 (f + 12);
  bits = le16 (f + 14);
  if (tag == 0xFFFE)
    {
      /* WAVE_FORMAT_EXTENSIBLE: the sub-format GUID is the tag + a fixed tail */
      if (size < 40 || memcmp (f + 26, guid_tail, sizeof guid_tail) != 0)
        {
          g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                       "%s: WAVE_FORMAT_EXTENSIBLE “fmt ” chunk of %u bytes without a valid sub-format", in->name,
                       size);
          return FALSE;
        }
      tag = le16 (f + 24);
    }
  if (rate < WKP_AUDIO_MIN_RATE || rate > WKP_AUDIO_MAX_RATE)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: sample rate %u Hz is outside %d..%d Hz", in->name,
                   rate, WKP_AUDIO_MIN_RATE, WKP_AUDIO_MAX_RATE);
      return FALSE;
    }
  in->rate = (int) rate;
  if (tag == 1 && bits == 16)
    in->format = PCM_S16;
  else if (tag == 3 && bits == 32)
    in->format = PCM_F32;
  else
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED,
                   "%s: WAV of %u-bit %s samples; stream reads 16-bit PCM or 32-bit float (convert with "
                   "ffmpeg -i IN -f wav -acodec pcm_s16le -)", in->name, bits,
                   tag == 1 ? "integer" : tag == 3 ? "float" : "compressed");
      return FALSE;
    }
  if ((guint32) align != (guint32) in->channels * bits / 8)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: WAV block size %u does not fit %u channels of %u bits: a damaged header?", in->name, align,
                   in->channels, bits);
      return FALSE;
    }
  return TRUE;
}

/* A WAV stream's header, up to its "data" chunk (the "RIFF....WAVE" pending):
 * the format, channels and rate come from "fmt "; other chunks are skipped.
 * A data size of 0 or 0xFFFFFFFF (what writers to a pipe put there) means
 * "until the end of input"; any other is trusted, so chunks after the data
 * (LIST, id3) are not read as sound. */
static gboolean
read_wav_header (Input *in, GError **error)
{
  gboolean have_fmt = FALSE;

  g_byte_array_remove_range (in->pending, 0, 12);
  for (;;)
    {
      guint32 size;
      guint64 body;
      if (!fill (in, 8, error))
        return header_ends (in, error);
      size = le32 (in->pending->data + 4);
      if (memcmp (in->pending->data, "data", 4) == 0)
        {
          if (!have_fmt)
            {
              g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: WAV data before its “fmt ” chunk", in->name);
              return FALSE;
            }
          in->data_left = size != 0xFFFFFFFFu && size != 0 ? (gint64) size : -1;
          g_byte_array_remove_range (in->pending, 0, 8);
          return TRUE;
        }
      body = (guint64) size + (size & 1);
      if (memcmp (in->pending->data, "fmt ", 4) == 0)
        {
          if (size > WAV_HEADER_MAX)
            {
              g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                           "%s: WAV “fmt ” chunk of %u bytes: not a WAV stream?", in->name, size);
              return FALSE;
            }
          if (!fill (in, 8 + size, error))
            return header_ends (in, error);
          if (!parse_fmt (in, in->pending->data + 8, size, error))
            return FALSE;
          have_fmt = TRUE;
        }
      if (!skip (in, 8 + body, error))
        return header_ends (in, error);
    }
}

/* The down-mix judges the channels' polarity as the file readers do, on
 * less sound (they take 10 s): a stream's first frames wait for it. */
#define STREAM_MIX_DECIDE_SECONDS 1.0
#define STREAM_MIX_HOLD_SECONDS 3.0

/* The down-mix's note, once it has decided; TRUE then. */
static gboolean
note_mix (const WkpAudioMixer *mixer, const Input *in, gboolean quiet)
{
  g_autofree char *note = wkp_audio_mixer_note (mixer, in->name);
  if (note != NULL && !quiet)
    g_printerr ("wav2kp stream: note: %s\n", note);
  return note != NULL || in->channels == 1 || wkp_audio_mixer_decided (mixer);
}

static gboolean
check_layout (const Input *in, GError **error)
{
  if (in->channels < 1 || in->channels > 64)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: %d channels (1 to 64 are read)", in->name,
                   in->channels);
      return FALSE;
    }
  if (in->rate < WKP_AUDIO_MIN_RATE || in->rate > WKP_AUDIO_MAX_RATE)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: sample rate %d Hz is outside %d..%d Hz", in->name,
                   in->rate, WKP_AUDIO_MIN_RATE, WKP_AUDIO_MAX_RATE);
      return FALSE;
    }
  return TRUE;
}

/* Whole sample frames of the pending bytes as interleaved float (non-finite
 * samples as silence, as the file readers do); leaves any partial frame
 * pending. */
static gint64
take_samples (Input *in, GArray *samples)
{
  int bps = in->format == PCM_S16 ? 2 : 4;
  gsize frame_bytes = (gsize) bps * in->channels;
  gsize avail = in->pending->len;
  gint64 n;

  if (in->data_left >= 0)
    avail = MIN (avail, (gsize) in->data_left);
  n = (gint64) (avail / frame_bytes);
  g_array_set_size (samples, (guint) (n * in->channels));
  for (gint64 i = 0; i < n * in->channels; i++)
    {
      const guint8 *p = in->pending->data + i * bps;
      if (in->format == PCM_S16)
        g_array_index (samples, float, i) = (float) ((gint16) le16 (p) / 32768.0);
      else
        {
          guint32 u = le32 (p);
          float v;
          memcpy (&v, &u, 4);
          g_array_index (samples, float, i) = isfinite (v) ? v : 0.0f;
        }
    }
  g_byte_array_remove_range (in->pending, 0, (guint) (n * frame_bytes));
  if (in->data_left >= 0)
    {
      in->data_left -= n * frame_bytes;
      if (in->data_left < (gint64) frame_bytes)
        {
          /* a WAV file's data end here (chunks after them are no sound) */
          in->data_left = 0;
          g_byte_array_set_size (in->pending, 0);
        }
    }
  return n;
}

typedef struct {
  const WkpModel *model;
  gboolean        jsonl;
  gint64          frame;
  WkpRational     fps;
  float          *points;
  GString        *text;          /* the lines of one batch of frames */
} Writer;

/* All of @len bytes to standard output. Not stdio: a standard output
 * inherited in non-blocking mode (event-loop readers set it on their end of
 * the pipe, and the flag is shared) made fflush fail with EAGAIN as soon as
 * the pipe was full, ending the run with frames lost; here a full pipe is
 * waited on. */
static gboolean
write_all (const char *data, gsize len, GError **error)
{
  while (len > 0)
    {
      gssize put = write (STDOUT_FILENO, data, len);
      if (put >= 0)
        {
          data += put;
          len -= (gsize) put;
          continue;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          struct pollfd pfd = { STDOUT_FILENO, POLLOUT, 0 };
          if (poll (&pfd, 1, -1) >= 0 || errno == EINTR)
            continue;
        }
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "standard output: %s", g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_frames (Writer *w, const GArray *coeffs, GError **error)
{
  int K = w->model->n_components;
  gint64 n = coeffs->len / K;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  GString *s = w->text;

  g_string_truncate (s, 0);
  if (!w->jsonl && w->frame == 0 && n > 0)
    {
      /* the header comes with the first frame: a run that fails before
       * any writes nothing to standard output */
      g_string_append (s, "frame,timestamp");
      for (int c = 0; c < 2; c++)
        for (int i = 0; i < WKP_N_LANDMARKS; i++)
          g_string_append_printf (s, ",%c_%d", c == 0 ? 'x' : 'y', i);
      g_string_append_c (s, '\n');
    }
  for (gint64 t = 0; t < n; t++, w->frame++)
    {
      double ts = wkp_frame_to_us (w->frame, w->fps) / 1e6;
      wkp_model_reconstruct (w->model, &g_array_index (coeffs, float, t * K), 1, w->points);
      if (w->jsonl)
        {
          g_string_append_printf (s, "{\"frame\":%" G_GINT64_FORMAT ",\"timestamp\":%s,\"points\":[", w->frame,
                                  g_ascii_formatd (buf, sizeof buf, "%.6f", ts));
          for (int i = 0; i < WKP_N_LANDMARKS; i++)
            {
              g_string_append_printf (s, "%s[%s", i ? "," : "",
                                      g_ascii_formatd (buf, sizeof buf, "%.5f", w->points[2 * i]));
              g_string_append_printf (s, ",%s]", g_ascii_formatd (buf, sizeof buf, "%.5f", w->points[2 * i + 1]));
            }
          g_string_append (s, "]}\n");
        }
      else
        {
          g_string_append_printf (s, "%" G_GINT64_FORMAT ",%s", w->frame,
                                  g_ascii_formatd (buf, sizeof buf, "%.6f", ts));
          for (int k = 0; k < 2; k++)
            for (int i = 0; i < WKP_N_LANDMARKS; i++)
              g_string_append_printf (s, ",%s", g_ascii_formatd (buf, sizeof buf, "%.5f", w->points[2 * i + k]));
          g_string_append_c (s, '\n');
        }
    }
  return write_all (s->str, s->len, error);
}

/* Model frames [k, K] into the resampler, the output frames out. */
static gboolean
forward (Resampler *rs, Writer *w, const float *coeffs, gint64 k, gint64 total_out, GArray *out, GError **error)
{
  g_array_set_size (out, 0);
  resampler_push (rs, coeffs, k, total_out, out);
  return out->len == 0 || write_frames (w, out, error);
}

/* Mono float at the input rate -> the model's rate (or as is) -> the stream. */
static gboolean
feed (const char *name, SwrContext *swr, WkpModelAudioStream *st, const float *x, gint64 n, Resampler *rs, Writer *w,
      GArray *scratch, GArray *out, gint64 *n_model_samples, GError **error)
{
  g_autofree float *coeffs = NULL;
  const float *audio = x;
  gint64 k, m = n;

  if (swr != NULL)
    {
      int cap = swr_get_out_samples (swr, (int) n);
      uint8_t *dst;
      const uint8_t *src = (const uint8_t *) x;
      int got;
      if (cap < 0)
        cap = 0;
      g_array_set_size (scratch, (guint) MAX (cap, 1));
      dst = (uint8_t *) scratch->data;
      got = swr_convert (swr, &dst, cap, n > 0 ? &src : NULL, (int) n);
      if (got < 0)
        {
          g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "%s: resampling failed", name);
          return FALSE;
        }
      audio = (const float *) scratch->data;
      m = got;
    }
  if (m == 0)
    return TRUE;
  *n_model_samples += m;
  if ((k = wkp_model_audio_stream_push (st, audio, m, &coeffs, error)) < 0)
    return FALSE;
  return k == 0 || forward (rs, w, coeffs, k, -1, out, error);
}

int
wkp_cli_stream (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *format_text = NULL, *fps_text = NULL, *out_format = NULL;
  g_auto(GStrv) files = NULL;
  int threads = 1, channels = -1, rate = 0;   /* -1: not given */
  gboolean quiet = FALSE;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[INPUT] — keypoints live from an audio stream");
  g_autoptr(WkpModel) model = NULL;
  g_autoptr(WkpModelAudioStream) st = NULL;
  g_autoptr(GArray) mono = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(WkpAudioMixer) mixer = NULL;
  gboolean noted = FALSE;
  g_autoptr(GArray) scratch = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GByteArray) pending = g_byte_array_new ();
  g_autofree float *points = g_new (float, 2 * WKP_N_LANDMARKS);
  g_autofree float *tail = NULL;
  SwrContext *swr = NULL;
  Input in = { 0 };
  Resampler rs = { 0 };
  Writer w = { 0 };
  GError *error = NULL;
  struct stat sb;
  gint64 n_model_samples = 0, k, total_out;
  int status = WKP_EXIT_BAD_INPUT;

  {
    GOptionEntry entries[] = {
      { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file (default: the installed default model); unidirectional models only", "MODEL" },
      { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, "Raw input samples: s16le or f32le (input without a WAV header needs this, or --rate or --channels: then s16le); a WAV header sets this, --rate and --channels", "FMT" },
      { "rate", 'r', 0, G_OPTION_ARG_INT, &rate, "Sample rate of raw input in Hz (default: the model's, 16000); others are resampled", "HZ" },
      { "channels", 'c', 0, G_OPTION_ARG_INT, &channels, "Interleaved channels of raw input, averaged (default 1)", "N" },
      { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Output frame rate (default: the model's own, 25); interpolated as predict does", "NUM/DEN" },
      { "output-format", 0, 0, G_OPTION_ARG_STRING, &out_format, "csv (default: a header, then frame,timestamp,x_0..x_67,y_0..y_67) or jsonl (one JSON object per frame)", "FMT" },
      { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "OpenBLAS threads (default 1)", "N" },
      { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No note on standard error about the input and the latency", NULL },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries, NULL);
  }
  g_option_context_set_description (ctx,
    "Reads audio from standard input (or INPUT; \"-\" is standard input) and writes one line per\n"
    "frame to standard output as soon as the audio it needs has arrived (the note on standard error\n"
    "gives the delay). Input: a WAV stream, or raw PCM as --format, --rate and --channels say:\n"
    "  arecord -q -f S16_LE -r 16000 -c 1 | wav2kp stream\n"
    "  ffmpeg -loglevel error -i talk.mp4 -f s16le -ac 1 -ar 16000 - | wav2kp stream --format s16le > talk.csv\n"
    "Keypoints are in the canonical face frame, as predict writes them (points the model does not\n"
    "predict are its mean face). A model with per-clip feature normalisation standardises the\n"
    "stream with the running mean and deviation of what it has heard so far (the first second or\n"
    "so differs from predict on the whole file); a model's clip-level gain is not applied.");
  if (!wkp_cli_parse (ctx, "stream", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (files != NULL && g_strv_length (files) > 1)
    {
      g_printerr ("wav2kp stream: one INPUT at most (got %u)\n", g_strv_length (files));
      return WKP_EXIT_BAD_INPUT;
    }
  if (threads < 1 || threads > 256)
    {
      g_printerr ("wav2kp stream: --threads must be between 1 and 256\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (channels != -1 && (channels < 1 || channels > 64))
    {
      g_printerr ("wav2kp stream: --channels must be between 1 and 64\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (format_text != NULL && g_strcmp0 (format_text, "s16le") != 0 && g_strcmp0 (format_text, "f32le") != 0)
    {
      g_printerr ("wav2kp stream: --format must be s16le or f32le (got “%s”)\n", format_text);
      return WKP_EXIT_BAD_INPUT;
    }
  if (out_format != NULL && g_strcmp0 (out_format, "csv") != 0 && g_strcmp0 (out_format, "jsonl") != 0)
    {
      g_printerr ("wav2kp stream: --output-format must be csv or jsonl (got “%s”)\n", out_format);
      return WKP_EXIT_BAD_INPUT;
    }
  if (rate != 0 && (rate < WKP_AUDIO_MIN_RATE || rate > WKP_AUDIO_MAX_RATE))
    {
      g_printerr ("wav2kp stream: --rate must be between %d and %d Hz\n", WKP_AUDIO_MIN_RATE, WKP_AUDIO_MAX_RATE);
      return WKP_EXIT_BAD_INPUT;
    }
  if (fps_text != NULL && !wkp_frame_rate_parse (fps_text, &w.fps, &error))
    {
      g_printerr ("wav2kp stream: --fps: %s\n", error->message);
      g_error_free (error);
      return WKP_EXIT_BAD_INPUT;
    }
  if (model_path == NULL && (model_path = wkp_cli_default_model (&error)) == NULL)
    return wkp_cli_fail ("stream", error);
  if ((model = wkp_model_load (model_path, &error)) == NULL)
    return wkp_cli_fail ("stream", error);
  if ((st = wkp_model_audio_stream_new (model, threads, &error)) == NULL)
    {
      g_prefix_error (&error, "%s: ", model_path);
      return wkp_cli_fail ("stream", error);
    }

  /* the input */
  in.pending = pending;
  in.data_left = -1;
  if (files == NULL || strcmp (files[0], "-") == 0)
    {
      in.fd = STDIN_FILENO;
      in.name = "standard input";
      if (isatty (STDIN_FILENO))
        {
          /* it would wait for audio typed on the keyboard */
          g_printerr ("wav2kp stream: standard input is a terminal: pipe audio in, e.g. "
                      "arecord -q -f S16_LE -r 16000 -c 1 | wav2kp stream\n");
          return WKP_EXIT_BAD_INPUT;
        }
    }
  else
    {
      in.name = files[0];
      in.fd = open (files[0], O_RDONLY | O_CLOEXEC);
      if (in.fd < 0)
        {
          g_printerr ("wav2kp stream: %s: %s\n", files[0], g_strerror (errno));
          return WKP_EXIT_BAD_INPUT;
        }
    }
  in.regular = fstat (in.fd, &sb) == 0 && S_ISREG (sb.st_mode);
  if (in.fd != STDIN_FILENO && !in.regular && !S_ISFIFO (sb.st_mode))
    {
      g_printerr ("wav2kp stream: %s: not a file or a pipe\n", in.name);
      goto out;
    }
  in.format = g_strcmp0 (format_text, "f32le") == 0 ? PCM_F32 : PCM_S16;
  in.channels = channels != -1 ? channels : 1;
  in.rate = rate != 0 ? rate : model->features.sample_rate;
  if (!fill (&in, 4, &error) && error != NULL)
    goto fail;
  if (in.pending->len == 0)
    {
      /* ended before its first byte: said before the format line, which
       * described a 16-bit stream that never came */
      g_set_error (&error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: no audio (the input is empty)", in.name);
      goto fail;
    }
  if (in.pending->len >= 4
      && (memcmp (in.pending->data, "RF64", 4) == 0 || memcmp (in.pending->data, "BW64", 4) == 0
          || memcmp (in.pending->data, "RIFX", 4) == 0))
    {
      g_set_error (&error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED,
                   "%s: a %.4s WAV, which stream does not read (convert with ffmpeg -i IN -f wav -acodec pcm_s16le -)",
                   in.name, (const char *) in.pending->data);
      goto fail;
    }
  if (in.pending->len >= 4 && memcmp (in.pending->data, "RIFF", 4) == 0)
    {
      if (!fill (&in, 12, &error))
        {
          header_ends (&in, &error);
          goto fail;
        }
      if (memcmp (in.pending->data + 8, "WAVE", 4) != 0)
        {
          g_set_error (&error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: a RIFF stream that is not WAVE", in.name);
          goto fail;
        }
      if (!read_wav_header (&in, &error))
        goto fail;
    }
  else if (in.pending->len > 0 && format_text == NULL && rate == 0 && channels == -1)
    {
      /* raw PCM only when said: any bytes read as samples give keypoints */
      fill (&in, 16, NULL);   /* (enough to tell a few formats apart) */
      g_set_error (&error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: not a WAV stream (%s); for raw PCM give --format s16le or f32le (and --rate and "
                   "--channels unless 16000 Hz mono)", in.name, describe_start (in.pending));
      goto fail;
    }
  if (!check_layout (&in, &error))
    goto fail;
  mixer = wkp_audio_mixer_new (in.channels, in.rate, STREAM_MIX_DECIDE_SECONDS, STREAM_MIX_HOLD_SECONDS);
  if (in.rate != model->features.sample_rate)
    {
      AVChannelLayout mono_layout = AV_CHANNEL_LAYOUT_MONO;
      /* the file readers' resampler: Kaiser-windowed sinc, 32 taps */
      if (swr_alloc_set_opts2 (&swr, &mono_layout, AV_SAMPLE_FMT_FLT, model->features.sample_rate, &mono_layout,
                               AV_SAMPLE_FMT_FLT, in.rate, 0, NULL) < 0
          || av_opt_set_int (swr, "filter_size", 32, 0) < 0 || av_opt_set_int (swr, "phase_shift", 10, 0) < 0
          || swr_init (swr) < 0)
        {
          g_set_error (&error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "%s: cannot resample %d Hz to %d Hz", in.name,
                       in.rate, model->features.sample_rate);
          goto fail;
        }
    }

  rs.K = model->n_components;
  rs.in_fps = model->fps;
  rs.out_fps = fps_text != NULL ? w.fps : model->fps;
  rs.rows = g_array_new (FALSE, FALSE, sizeof (float));
  w.model = model;
  w.jsonl = g_strcmp0 (out_format, "jsonl") == 0;
  w.fps = rs.out_fps;
  w.points = points;
  w.text = g_string_sized_new (4096);
  if (!quiet)
    {
      int lag = wkp_model_audio_stream_lag (st) + model->context + model->delay;
      g_autofree char *fps_s = wkp_rational_to_string (rs.out_fps);
      g_printerr ("wav2kp stream: %s, %d Hz, %d channel%s%s; keypoints at %s fps, each about %.0f ms after "
                  "its audio%s\n", in.format == PCM_S16 ? "16-bit PCM" : "32-bit float", in.rate, in.channels,
                  in.channels > 1 ? "s (mixed to mono; the start held back until 1 s of sound, at most 3 s, to judge their polarity)" : "", swr != NULL ? ", resampled" : "", fps_s,
                  1000.0 * (lag + 1) * model->fps.den / model->fps.num,
                  model->level_gain != 0 ? " (the model's clip-level gain is not applied to a stream)" : "");
    }

  /* bytes read with the header first, then whatever each read brings */
  for (;;)
    {
      guint8 buf[READ_CHUNK];
      gssize got;
      gint64 n_in = take_samples (&in, samples);
      g_array_set_size (mono, 0);
      if (n_in > 0)
        wkp_audio_mixer_push (mixer, (const float *) samples->data, n_in, mono);
      if (!noted)
        noted = note_mix (mixer, &in, quiet);
      if (mono->len > 0
          && !feed (in.name, swr, st, (const float *) mono->data, mono->len, &rs, &w, scratch, out, &n_model_samples, &error))
        goto fail;
      if (in.data_left == 0)
        break;
      if ((got = read_some (&in, buf, sizeof buf, &error)) < 0)
        goto fail;
      if (got == 0)
        break;
      g_byte_array_append (in.pending, buf, (guint) got);
    }
  /* the end: what the down-mix held back, the resampler's tail, then the
   * stream's last frames */
  g_array_set_size (mono, 0);
  wkp_audio_mixer_finish (mixer, mono);
  if (!noted)
    note_mix (mixer, &in, quiet);
  if (mono->len > 0
      && !feed (in.name, swr, st, (const float *) mono->data, mono->len, &rs, &w, scratch, out, &n_model_samples, &error))
    goto fail;
  if (swr != NULL && !feed (in.name, swr, st, NULL, 0, &rs, &w, scratch, out, &n_model_samples, &error))
    goto fail;
  if (n_model_samples == 0)
    {
      g_set_error (&error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: no audio", in.name);
      goto fail;
    }
  /* as predict: the frames of the audio's duration at --fps, interpolated
   * from the model's frames, which continue past the audio (silence) as far
   * as the last output frame's centre reaches */
  total_out = wkp_frames_for_samples (n_model_samples, rs.out_fps, model->features.sample_rate);
  if ((k = wkp_model_audio_stream_finish_frames (
         st, wkp_muldiv_floor (total_out, (gint64) model->fps.num * rs.out_fps.den,
                               (gint64) model->fps.den * rs.out_fps.num) + 2, &tail, &error)) < 0)
    goto fail;
  if (!forward (&rs, &w, tail, k, total_out, out, &error))
    goto fail;
  if (in.pending->len > 0 && !quiet)
    g_printerr ("wav2kp stream: %s ended inside a sample frame (%u bytes ignored)\n", in.name, in.pending->len);
  status = WKP_EXIT_OK;
  goto out;

fail:
  status = wkp_cli_fail ("stream", error);
out:
  swr_free (&swr);
  if (rs.rows != NULL)
    g_array_unref (rs.rows);
  if (w.text != NULL)
    g_string_free (w.text, TRUE);
  if (in.fd > STDIN_FILENO)
    close (in.fd);
  return status;
}
