#include "wkp-player.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <string.h>

#include "wkp-error.h"
#include "wkp-media.h"

struct _WkpPlayer
{
  GObject     parent_instance;
  gboolean    silent;
  GstElement *pipeline;
  GstElement *appsink;
  gboolean    audio_from_video;
  gboolean    want_playing;
  double      rate;
  gboolean    prerolled;    /* the first async state change has completed */
  gint64      pending_seek; /* -1: none; a seek asked for before preroll */
  gint64      seeking_to;   /* -1: none; target of a seek not completed yet */
  gint64      seek_issued;  /* monotonic time of that seek */
  guint       bus_watch;
  char       *missing;      /* what GStreamer lacked a plug-in for, from the bus */
  char       *proxy_dir;    /* temporary folder of Matroska copies (MPEG-PS), or NULL */
  char       *proxy;        /* the open clip's copy in it, or NULL */
  GCancellable *copying;    /* the copy being made for the clip being opened, or NULL */
  guint       n_copies;

  GMutex      lock;
  GdkTexture *frame;        /* latest displayed, under lock */
  gint64      frame_pts;
  gboolean    frame_new;
  guint64     frames_shown;
  gboolean    video_linked; /* streaming thread only */
  gboolean    audio_linked;
  gint64      audio_advance_us; /* the sound this much earlier than the pictures; under lock */
};

G_DEFINE_FINAL_TYPE (WkpPlayer, wkp_player, G_TYPE_OBJECT)

enum { SIGNAL_EOS, SIGNAL_ERROR, N_SIGNALS };
static guint signals[N_SIGNALS];

typedef struct
{
  GstBuffer  *buffer;
  GstMapInfo  map;
} MappedBuffer;

static void
mapped_buffer_free (gpointer data)
{
  MappedBuffer *mb = data;
  gst_buffer_unmap (mb->buffer, &mb->map);
  gst_buffer_unref (mb->buffer);
  g_free (mb);
}

static gboolean
release_in_main (gpointer data)
{
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

/* streaming thread: wrap the sample as a texture without copying */
static GstFlowReturn
take_sample (WkpPlayer *self, GstSample *sample)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstCaps *caps = gst_sample_get_caps (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  GstVideoInfo info;
  MappedBuffer *mb;
  GBytes *bytes;
  GdkTexture *texture, *old;
  gint64 pts_us = -1;

  if (buffer == NULL || caps == NULL || !gst_video_info_from_caps (&info, caps))
    return GST_FLOW_OK;
  mb = g_new0 (MappedBuffer, 1);
  mb->buffer = gst_buffer_ref (buffer);
  if (!gst_buffer_map (buffer, &mb->map, GST_MAP_READ))
    {
      gst_buffer_unref (mb->buffer);
      g_free (mb);
      return GST_FLOW_OK;
    }
  bytes = g_bytes_new_with_free_func (mb->map.data, mb->map.size, mapped_buffer_free, mb);
  texture = gdk_memory_texture_new (GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info),
                                    GDK_MEMORY_R8G8B8, bytes, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));
  g_bytes_unref (bytes);

  if (GST_BUFFER_PTS_IS_VALID (buffer))
    {
      guint64 st = segment != NULL ? gst_segment_to_stream_time (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer))
                                   : GST_BUFFER_PTS (buffer);
      if (st != GST_CLOCK_TIME_NONE)
        pts_us = (gint64) (st / GST_USECOND);
    }

  g_mutex_lock (&self->lock);
  old = self->frame;
  self->frame = texture;
  self->frame_pts = pts_us;
  self->frame_new = TRUE;
  self->frames_shown++;
  g_mutex_unlock (&self->lock);
  /* the replaced picture may hold the renderer's data (a GL texture) and
   * its last reference must not be dropped in this streaming thread */
  if (old != NULL)
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, release_in_main, old, NULL);
  return GST_FLOW_OK;
}

static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer user_data)
{
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstFlowReturn ret = GST_FLOW_OK;
  if (sample != NULL)
    {
      ret = take_sample (user_data, sample);
      gst_sample_unref (sample);
    }
  return ret;
}

static GstFlowReturn
on_new_preroll (GstAppSink *sink, gpointer user_data)
{
  GstSample *sample = gst_app_sink_pull_preroll (sink);
  GstFlowReturn ret = GST_FLOW_OK;
  if (sample != NULL)
    {
      ret = take_sample (user_data, sample);
      gst_sample_unref (sample);
    }
  return ret;
}

static GstElement *
make_bin (const char *description)
{
  GError *error = NULL;
  GstElement *bin = gst_parse_bin_from_description (description, TRUE, &error);
  if (bin == NULL)
    {
      g_warning ("cannot build %s: %s", description, error->message);
      g_error_free (error);
    }
  return bin;
}

static void
link_branch (WkpPlayer *self, GstPad *pad, GstElement *branch)
{
  GstPad *sinkpad;
  gst_bin_add (GST_BIN (self->pipeline), branch);
  sinkpad = gst_element_get_static_pad (branch, "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    g_warning ("cannot link %s", GST_ELEMENT_NAME (branch));
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (branch);
}

#define AUDIO_SINK "wkp-audio-sink"

/* The audio sink's ts-offset for the sound moved audio_advance_us earlier:
 * running time, so divided by the rate (scaletempo plays stream time at
 * 1/rate). Any thread. */
static void
set_sink_offset (WkpPlayer *self, GstElement *bin)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (bin), AUDIO_SINK);
  gint64 offset;
  if (sink == NULL)
    return;
  /* read and set under the lock: the streaming thread (when it links the
   * sink) and the main thread (a new move) set the latest value, in order */
  g_mutex_lock (&self->lock);
  offset = (gint64) (-(double) self->audio_advance_us * GST_USECOND / (self->rate > 0 ? self->rate : 1.0));
  g_object_set (sink, "ts-offset", offset, NULL);
  g_mutex_unlock (&self->lock);
  gst_object_unref (sink);
}

/* streaming thread */
static void
on_pad_added (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  WkpPlayer *self = user_data;
  gboolean audio_source = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (decodebin), "wkp-audio"));
  gboolean video_source = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (decodebin), "wkp-video"));
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const char *name;
  GstElement *branch = NULL;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));

  if (g_str_has_prefix (name, "video/x-raw") && video_source && !self->video_linked)
    {
      self->video_linked = TRUE;
      branch = make_bin ("queue max-size-buffers=3 ! videoconvert ! capsfilter caps=video/x-raw,format=RGB");
      if (branch != NULL)
        {
          /* the appsink lives in the pipeline; link bin -> appsink */
          gst_bin_add (GST_BIN (self->pipeline), branch);
          {
            GstPad *sinkpad = gst_element_get_static_pad (branch, "sink");
            gst_pad_link (pad, sinkpad);
            gst_object_unref (sinkpad);
          }
          gst_element_link (branch, self->appsink);
          gst_element_sync_state_with_parent (branch);
          branch = NULL;
        }
    }
  else if (g_str_has_prefix (name, "audio/x-raw") && audio_source && !self->audio_linked)
    {
      g_autofree char *desc = g_strdup_printf (
          "queue ! audioconvert ! audioresample ! scaletempo ! audioconvert ! audioresample ! %s name=" AUDIO_SINK,
          self->silent ? "fakesink sync=true" : "autoaudiosink");
      self->audio_linked = TRUE;
      branch = make_bin (desc);
      if (branch != NULL)
        set_sink_offset (self, branch);
    }
  else
    /* (a stream not shown, as the pictures of a video given as the sound:
     * synced, or it ran to its end at once and the position, the
     * pipeline's furthest sink, jumped there at Play) */
    branch = make_bin ("fakesink sync=true async=false");

  if (branch != NULL)
    link_branch (self, pad, branch);
  gst_caps_unref (caps);
}

static gboolean
on_bus_message (GstBus *bus, GstMessage *message, gpointer user_data)
{
  WkpPlayer *self = user_data;
  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_EOS:
      g_signal_emit (self, signals[SIGNAL_EOS], 0);
      break;
    case GST_MESSAGE_ASYNC_DONE:
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (self->pipeline) && self->pending_seek < 0)
        self->seeking_to = -1;   /* a flushing seek has landed */
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (self->pipeline) && !self->prerolled)
        {
          /* a seek before preroll would be lost: do it now */
          self->prerolled = TRUE;
          if (self->pending_seek >= 0)
            {
              gint64 us = self->pending_seek;
              self->pending_seek = -1;
              wkp_player_seek (self, us);
            }
          else if (self->rate != 1.0)
            {
              /* a new pipeline plays at 1x until a seek sets its rate: the
               * rate chosen for the previous clip (still shown) applies */
              gint64 us = 0;
              gint64 ns = 0;
              if (gst_element_query_position (self->pipeline, GST_FORMAT_TIME, &ns) && ns > 0)
                us = ns / GST_USECOND;
              wkp_player_seek (self, us);
            }
        }
      break;
    case GST_MESSAGE_ELEMENT:
      /* decodebin says what it lacked before its generic error
       * ("Your GStreamer installation is missing a plug-in.") */
      if (gst_is_missing_plugin_message (message) && self->missing == NULL)
        self->missing = gst_missing_plugin_message_get_description (message);
      break;
    case GST_MESSAGE_ERROR:
      {
        GError *error = NULL;
        g_autofree char *text = NULL;
        gst_message_parse_error (message, &error, NULL);
        self->seeking_to = -1;
        if (self->missing != NULL)
          text = g_strdup_printf ("GStreamer has no plug-in for %s (Debian: gstreamer1.0-plugins-bad, "
                                  "-ugly or -libav)", self->missing);
        g_signal_emit (self, signals[SIGNAL_ERROR], 0, text != NULL ? text : error->message);
        g_error_free (error);
      }
      break;
    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

/* MPEG program streams (GRID's .mpg) are played through a Matroska copy of
 * their packets (wkp_media_remux): GStreamer's mpegpsdemux times them by the
 * pack headers' clock, which jumps 0.2-0.7 s mid-clip in GRID's files, and
 * seeks past the jump land on the wrong frame whatever its settings, so the
 * picture stopped matching the frame index and the landmarks. FFmpeg, which
 * decodes the frames the landmarks come from, times them by the PES
 * timestamps, and so does the copy. The copy is made in a worker thread (a
 * DVD-sized file takes seconds) and the pipeline is built when it is done;
 * a copy that fails falls back to playing the file itself, and files over
 * 2 GB are played as they are rather than copied to the temporary folder. */
#define WKP_PLAYER_MAX_COPY (G_GINT64_CONSTANT (2) << 30)

typedef struct
{
  char       *video, *audio, *copy;
  WkpRational fps;
} CopyJob;

static void
copy_job_free (gpointer data)
{
  CopyJob *job = data;
  g_free (job->video);
  g_free (job->audio);
  g_free (job->copy);
  g_free (job);
}

static gboolean build_pipeline (WkpPlayer *self, const char *video, const char *audio, WkpRational fps,
                                GError **error);

/* worker thread: touches only the job */
static void
copy_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  CopyJob *job = data;
  GError *error = NULL;
  (void) source;
  if (wkp_media_remux (job->video, job->copy, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
copy_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WkpPlayer *self = WKP_PLAYER (source);
  CopyJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  const char *video = job->video;
  (void) user_data;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      /* closed, or another clip opened, meanwhile: the copy (which may have
       * been completed just before) is nobody's */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || g_error_matches (error, WKP_IO_ERROR, WKP_ERROR_CANCELLED))
        {
          g_unlink (job->copy);
          return;
        }
      g_debug ("playing %s as it is: %s", job->video, error->message);
      g_clear_error (&error);
    }
  else
    {
      self->proxy = g_strdup (job->copy);
      video = self->proxy;
    }
  g_clear_object (&self->copying);
  if (!build_pipeline (self, video, job->audio, job->fps, &error))
    g_signal_emit (self, signals[SIGNAL_ERROR], 0, error->message);
}

static gboolean
needs_copy (WkpPlayer *self, const char *video)
{
  GStatBuf st;
  if (g_stat (video, &st) != 0 || st.st_size > WKP_PLAYER_MAX_COPY || !wkp_media_is_mpeg_ps (video))
    return FALSE;
  if (self->proxy_dir == NULL)
    self->proxy_dir = g_dir_make_tmp ("wav2kp-studio-XXXXXX", NULL);
  return self->proxy_dir != NULL;
}

static GstElement *
make_source (WkpPlayer *self, const char *path, WkpRational fps, gboolean pattern, GError **error)
{
  GstElement *dec;
  if (pattern)
    {
      /* image sequence: frames numbered from 0 or 1 (JPEG, or the PNGs of
       * wav2kp frames), at the given rate. imagesequencesrc stamps each
       * picture with its index's time and seeks to an index; multifilesrc
       * did neither, so after a seek or a step the picture froze, then ran
       * seconds behind the playhead (studio QA) */
      GstElement *src = gst_element_factory_make ("imagesequencesrc", NULL);
      g_autofree char *rate = NULL;
      int first = 0;
      dec = gst_element_factory_make ("decodebin", NULL);
      if (src == NULL || dec == NULL)
        {
          if (src != NULL)
            gst_object_unref (src);
          if (dec != NULL)
            gst_object_unref (dec);
          g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED,
                       "GStreamer imagesequencesrc or decodebin is missing (gstreamer1.0-plugins-good, -base)");
          return NULL;
        }
      /* (as the engine reads it: a frames.json's rate, else 25) */
      fps = wkp_media_sequence_rate (path, fps);
      rate = g_strdup_printf ("%d/%d", fps.num, fps.den);
      /* (numbered from 0 to 5, as the engine's reader takes them) */
      for (first = 0; first < 5; first++)
        {
          g_autofree char *name = g_strdup_printf (path, first);
          if (g_file_test (name, G_FILE_TEST_EXISTS))
            break;
        }
      g_object_set (src, "location", path, "start-index", first, NULL);
      gst_util_set_object_arg (G_OBJECT (src), "framerate", rate);
      gst_bin_add_many (GST_BIN (self->pipeline), src, dec, NULL);
      gst_element_link (src, dec);
      g_object_set_data (G_OBJECT (dec), "wkp-video", GINT_TO_POINTER (TRUE));
      g_signal_connect (dec, "pad-added", G_CALLBACK (on_pad_added), self);
      return dec;
    }

  dec = gst_element_factory_make ("uridecodebin", NULL);
  if (dec == NULL)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "GStreamer uridecodebin is missing");
      return NULL;
    }
  {
    g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
    g_autofree char *uri = g_file_get_uri (file);
    g_object_set (dec, "uri", uri, NULL);
  }
  g_signal_connect (dec, "pad-added", G_CALLBACK (on_pad_added), self);
  gst_bin_add (GST_BIN (self->pipeline), dec);
  return dec;
}

static gboolean
is_pattern (const char *path)
{
  const char *p = strchr (path, '%');
  return p != NULL && (strchr (p, 'd') != NULL);
}

gboolean
wkp_player_open (WkpPlayer *self, const char *video, const char *audio, WkpRational fps, GError **error)
{
  g_return_val_if_fail (video != NULL || audio != NULL, FALSE);
  wkp_player_close (self);
  /* GStreamer starts with the first clip, not with the window (startup time) */
  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  if (video != NULL && !is_pattern (video) && needs_copy (self, video))
    {
      CopyJob *job = g_new0 (CopyJob, 1);
      g_autoptr(GTask) task = NULL;
      job->video = g_strdup (video);
      job->audio = g_strdup (audio);
      job->fps = fps;
      job->copy = g_strdup_printf ("%s/copy-%u.mkv", self->proxy_dir, ++self->n_copies);
      self->copying = g_cancellable_new ();
      task = g_task_new (self, self->copying, copy_done, NULL);
      g_task_set_task_data (task, job, copy_job_free);
      g_task_run_in_thread (task, copy_thread);
      return TRUE;   /* seeks and Play are kept until the pipeline exists */
    }
  return build_pipeline (self, video, audio, fps, error);
}

/* The pipeline of a clip; a failure leaves the player closed. */
static gboolean
build_pipeline (WkpPlayer *self, const char *video, const char *audio, WkpRational fps, GError **error)
{
  GstAppSinkCallbacks callbacks = { 0 };
  GstElement *vsrc = NULL, *asrc = NULL;
  g_autoptr(GstBus) bus = NULL;

  self->pipeline = gst_pipeline_new ("wkp-player");
  self->appsink = gst_element_factory_make ("appsink", "frames");
  if (self->pipeline == NULL || self->appsink == NULL)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED,
                   "GStreamer elements are missing (install gstreamer1.0-plugins-base)");
      g_clear_object (&self->appsink);
      return FALSE;
    }
  g_object_set (self->appsink, "sync", TRUE, "max-buffers", 2, "drop", FALSE,
                "enable-last-sample", FALSE, "qos", TRUE, "max-lateness", (gint64) 20 * GST_MSECOND, NULL);
  callbacks.new_sample = on_new_sample;
  callbacks.new_preroll = on_new_preroll;
  gst_app_sink_set_callbacks (GST_APP_SINK (self->appsink), &callbacks, self, NULL);
  gst_bin_add (GST_BIN (self->pipeline), self->appsink);
  self->video_linked = FALSE;
  self->audio_linked = FALSE;

  if (video != NULL)
    {
      vsrc = make_source (self, video, fps, is_pattern (video), error);
      if (vsrc == NULL)
        goto fail;
      g_object_set_data (G_OBJECT (vsrc), "wkp-video", GINT_TO_POINTER (TRUE));
      g_object_set_data (G_OBJECT (vsrc), "wkp-audio", GINT_TO_POINTER (audio == NULL));
    }
  else
    gst_bin_remove (GST_BIN (self->pipeline), self->appsink), self->appsink = NULL;

  if (audio != NULL)
    {
      asrc = make_source (self, audio, fps, FALSE, error);
      if (asrc == NULL)
        goto fail;
      g_object_set_data (G_OBJECT (asrc), "wkp-audio", GINT_TO_POINTER (TRUE));
    }

  bus = gst_pipeline_get_bus (GST_PIPELINE (self->pipeline));
  self->bus_watch = gst_bus_add_watch (bus, on_bus_message, self);
  if (gst_element_set_state (self->pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_FAILED, "%s: GStreamer cannot play this file",
                   video != NULL ? video : audio);
      goto fail;
    }
  if (self->want_playing)   /* asked for while the copy was being made */
    gst_element_set_state (self->pipeline, GST_STATE_PLAYING);
  return TRUE;

fail:
  wkp_player_close (self);
  return FALSE;
}

void
wkp_player_close (WkpPlayer *self)
{
  if (self->bus_watch != 0)
    g_source_remove (self->bus_watch);
  self->bus_watch = 0;
  if (self->pipeline != NULL)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      gst_object_unref (self->pipeline);
    }
  self->pipeline = NULL;
  self->appsink = NULL;
  if (self->copying != NULL)
    g_cancellable_cancel (self->copying);
  g_clear_object (&self->copying);
  if (self->proxy != NULL)
    g_unlink (self->proxy);
  g_clear_pointer (&self->proxy, g_free);
  self->want_playing = FALSE;
  self->prerolled = FALSE;
  self->pending_seek = -1;
  self->seeking_to = -1;
  g_clear_pointer (&self->missing, g_free);
  g_mutex_lock (&self->lock);
  self->audio_advance_us = 0;   /* (each clip's own, set when its frame rate is known) */
  g_clear_object (&self->frame);
  self->frame_new = FALSE;
  self->frames_shown = 0;
  g_mutex_unlock (&self->lock);
}

void
wkp_player_set_playing (WkpPlayer *self, gboolean playing)
{
  self->want_playing = playing;
  if (self->pipeline != NULL)
    gst_element_set_state (self->pipeline, playing ? GST_STATE_PLAYING : GST_STATE_PAUSED);
}

gboolean
wkp_player_get_playing (WkpPlayer *self)
{
  return self->want_playing;
}

void
wkp_player_seek (WkpPlayer *self, gint64 us)
{
  if (self->pipeline == NULL && self->copying == NULL)
    return;
  /* until the seek lands, the pipeline's position is that of the flushed
   * data (often 0): report the target instead, or a looping playhead
   * flickers back to the start */
  self->seeking_to = MAX (us, 0);
  self->seek_issued = g_get_monotonic_time ();
  if (!self->prerolled)
    {
      self->pending_seek = MAX (us, 0);
      return;
    }
  if (!gst_element_seek (self->pipeline, self->rate, GST_FORMAT_TIME,
                         GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                         GST_SEEK_TYPE_SET, (gint64) MAX (us, 0) * GST_USECOND,
                         GST_SEEK_TYPE_NONE, GST_CLOCK_TIME_NONE))
    self->seeking_to = -1;
}

void
wkp_player_set_audio_advance (WkpPlayer *self, gint64 us)
{
  gint64 pos = 0;
  g_mutex_lock (&self->lock);
  if (self->audio_advance_us == us)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->audio_advance_us = us;
  g_mutex_unlock (&self->lock);
  if (self->pipeline == NULL)
    return;   /* (applied when the sound's branch is linked) */
  set_sink_offset (self, self->pipeline);
  /* a flushing seek where we are: the sink starts again with its new offset */
  if (wkp_player_get_position (self, &pos))
    wkp_player_seek (self, pos);
}

gint64
wkp_player_get_audio_offset (WkpPlayer *self)
{
  GstElement *sink = self->pipeline != NULL ? gst_bin_get_by_name (GST_BIN (self->pipeline), AUDIO_SINK) : NULL;
  gint64 offset = G_MININT64;
  if (sink != NULL)
    {
      g_object_get (sink, "ts-offset", &offset, NULL);
      gst_object_unref (sink);
    }
  return offset;
}

gboolean
wkp_player_get_audio_position (WkpPlayer *self, gint64 *us)
{
  GstElement *sink = self->pipeline != NULL ? gst_bin_get_by_name (GST_BIN (self->pipeline), AUDIO_SINK) : NULL;
  GstSample *sample = NULL;
  gboolean ok = FALSE;
  if (sink != NULL && g_object_class_find_property (G_OBJECT_GET_CLASS (sink), "last-sample") != NULL)
    g_object_get (sink, "last-sample", &sample, NULL);
  if (sample != NULL)
    {
      GstBuffer *buffer = gst_sample_get_buffer (sample);
      const GstSegment *segment = gst_sample_get_segment (sample);
      if (buffer != NULL && segment != NULL && GST_BUFFER_PTS_IS_VALID (buffer))
        {
          guint64 st = gst_segment_to_stream_time (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
          ok = st != GST_CLOCK_TIME_NONE;
          if (ok)
            *us = (gint64) (st / GST_USECOND);
        }
      gst_sample_unref (sample);
    }
  if (sink != NULL)
    gst_object_unref (sink);
  return ok;
}

void
wkp_player_set_rate (WkpPlayer *self, double rate)
{
  gint64 pos = 0;
  if (rate == self->rate)
    return;
  g_mutex_lock (&self->lock);   /* (set_sink_offset reads it on the streaming thread) */
  self->rate = rate;
  g_mutex_unlock (&self->lock);
  if (self->pipeline != NULL)
    set_sink_offset (self, self->pipeline);
  if (self->pipeline != NULL && wkp_player_get_position (self, &pos))
    wkp_player_seek (self, pos);
}

gboolean
wkp_player_get_position (WkpPlayer *self, gint64 *us)
{
  gint64 ns = 0;
  /* (a seek that has not landed in 2 s will not: ask the pipeline again) */
  if (self->pipeline != NULL && self->seeking_to >= 0
      && g_get_monotonic_time () - self->seek_issued < 2 * G_USEC_PER_SEC)
    {
      *us = self->seeking_to;
      return TRUE;
    }
  if (self->pipeline == NULL || !gst_element_query_position (self->pipeline, GST_FORMAT_TIME, &ns) || ns < 0)
    return FALSE;
  *us = ns / GST_USECOND;
  return TRUE;
}

GdkTexture *
wkp_player_take_frame (WkpPlayer *self, gint64 *pts_us)
{
  GdkTexture *texture = NULL;
  g_mutex_lock (&self->lock);
  if (self->frame_new && self->frame != NULL)
    {
      texture = g_object_ref (self->frame);
      *pts_us = self->frame_pts;
      self->frame_new = FALSE;
    }
  g_mutex_unlock (&self->lock);
  return texture;
}

guint64
wkp_player_get_frames_shown (WkpPlayer *self)
{
  guint64 n;
  g_mutex_lock (&self->lock);
  n = self->frames_shown;
  g_mutex_unlock (&self->lock);
  return n;
}

const char *
wkp_player_get_copy_dir (WkpPlayer *self)
{
  return self->proxy_dir;
}

gboolean
wkp_player_is_copying (WkpPlayer *self)
{
  return self->copying != NULL;
}

static void
wkp_player_dispose (GObject *object)
{
  WkpPlayer *self = WKP_PLAYER (object);
  wkp_player_close (self);
  if (self->proxy_dir != NULL)
    g_rmdir (self->proxy_dir);
  g_clear_pointer (&self->proxy_dir, g_free);
  G_OBJECT_CLASS (wkp_player_parent_class)->dispose (object);
}

static void
wkp_player_finalize (GObject *object)
{
  g_mutex_clear (&WKP_PLAYER (object)->lock);
  G_OBJECT_CLASS (wkp_player_parent_class)->finalize (object);
}

static void
wkp_player_class_init (WkpPlayerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = wkp_player_dispose;
  G_OBJECT_CLASS (klass)->finalize = wkp_player_finalize;
  signals[SIGNAL_EOS] = g_signal_new ("eos", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                      NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
wkp_player_init (WkpPlayer *self)
{
  g_mutex_init (&self->lock);
  self->rate = 1.0;
  self->pending_seek = -1;
  self->seeking_to = -1;
}

WkpPlayer *
wkp_player_new (gboolean silent)
{
  WkpPlayer *self = g_object_new (WKP_TYPE_PLAYER, NULL);
  self->silent = silent;
  return self;
}
