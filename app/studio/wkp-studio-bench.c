#include "wkp-studio-bench.h"

#include <stdio.h>
#include <sys/resource.h>

#include "wkp-widgets.h"

typedef struct
{
  WkpStudioWindow *window;
  gint64   start_time;
  gint64   play_start;
  gint64   last_tick;
  gint64   max_gap;
  gint64   last_index;
  gint64   distinct;
  gint64   skipped;
  gint64   first_index;
  gboolean playing;
  guint64  paints;
} Bench;

static void
finish (Bench *b)
{
  gtk_window_destroy (GTK_WINDOW (b->window));
}

static void
on_first_paint (GdkFrameClock *clock, Bench *b)
{
  gint64 now = g_get_monotonic_time ();
  g_signal_handlers_disconnect_by_func (clock, on_first_paint, b);
  printf ("startup_to_first_paint_ms %.1f\n", (now - b->start_time) / 1000.0);
  printf ("ratio_to_1s_budget %.2f\n", (now - b->start_time) / 1e6);
  {
    /* CPU used by the process so far: the part of startup that is ours
     * when the machine is shared */
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    printf ("startup_cpu_ms %.1f (user %.1f, system %.1f)\n",
            (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3,
            ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3, ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
  }
  fflush (stdout);
  finish (b);
}

static void
on_realize_startup (GtkWidget *widget, Bench *b)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_first_paint), b);
}

static void
on_index (WkpFrameView *view, GParamSpec *pspec, Bench *b)
{
  gint64 idx = wkp_frame_view_get_index (view);
  if (!b->playing || idx < 0)
    return;
  if (b->last_index >= 0 && idx > b->last_index + 1)
    b->skipped += idx - b->last_index - 1;
  if (b->first_index < 0)
    b->first_index = idx;
  if (idx != b->last_index)
    b->distinct++;
  b->last_index = idx;
}

static void
on_after_paint (GdkFrameClock *clock, Bench *b)
{
  gint64 now = g_get_monotonic_time ();
  if (b->playing)
    {
      if (b->last_tick > 0 && now - b->last_tick > b->max_gap)
        b->max_gap = now - b->last_tick;
      b->paints++;
    }
  b->last_tick = now;
}

static gboolean
report_playback (gpointer data)
{
  Bench *b = data;
  WkpSession *session = wkp_studio_window_get_session (b->window);
  gint64 wall = g_get_monotonic_time () - b->play_start;
  gint64 n = wkp_session_n_frames (session);
  WkpStudioClip *clip = wkp_session_get_clip (session);

  b->playing = FALSE;
  printf ("clip_frames %" G_GINT64_FORMAT "\n", n);
  printf ("fps %d/%d\n", clip->fps.num, clip->fps.den);
  printf ("wall_s %.3f\n", wall / 1e6);
  printf ("clip_s %.3f\n", wkp_session_get_duration (session) / 1e6);
  printf ("frames_shown %" G_GINT64_FORMAT "\n", b->distinct);
  printf ("frames_skipped %" G_GINT64_FORMAT "\n", b->skipped);
  printf ("first_last_index %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", b->first_index, b->last_index);
  printf ("sink_frames %" G_GUINT64_FORMAT "\n", wkp_player_get_frames_shown (wkp_studio_window_get_player (b->window)));
  printf ("paints %" G_GUINT64_FORMAT " (%.1f per second)\n", b->paints, b->paints / (wall / 1e6));
  printf ("max_paint_gap_ms %.1f\n", b->max_gap / 1000.0);
  /* baseline: every frame of the clip shown once, in the clip's duration */
  printf ("ratio_frames_shown_to_clip_frames %.3f\n", n > 1 ? (double) b->distinct / (n - 1) : 0.0);
  printf ("ratio_wall_to_clip_duration %.3f\n", (double) wall / MAX (wkp_session_get_duration (session), 1));
  fflush (stdout);
  finish (b);
  return G_SOURCE_REMOVE;
}

static void
on_playing (WkpSession *session, GParamSpec *pspec, Bench *b)
{
  if (b->playing && !wkp_session_get_playing (session))
    g_idle_add (report_playback, b);
}

static gboolean
wait_ready (gpointer data)
{
  Bench *b = data;
  WkpSession *session = wkp_studio_window_get_session (b->window);
  if (wkp_studio_window_is_busy (b->window) || wkp_session_n_frames (session) == 0 ||
      wkp_spectrogram_view_is_rendering (WKP_SPECTROGRAM_VIEW (wkp_studio_window_get_view (b->window, "spectrogram"))))
    return G_SOURCE_CONTINUE;
  b->playing = TRUE;
  b->play_start = g_get_monotonic_time ();
  b->last_index = -1;
  b->first_index = -1;
  g_signal_connect (session, "notify::playing", G_CALLBACK (on_playing), b);
  wkp_studio_window_set_playing (b->window, TRUE);
  return G_SOURCE_REMOVE;
}

static void
on_realize_playback (GtkWidget *widget, Bench *b)
{
  g_signal_connect (gtk_widget_get_frame_clock (widget), "after-paint", G_CALLBACK (on_after_paint), b);
}

gboolean
wkp_studio_bench_start (WkpStudioWindow *window, const char *what, const WkpOpenRequest *request,
                        gint64 start_time_us)
{
  Bench *b = g_new0 (Bench, 1);
  b->window = window;
  b->start_time = start_time_us;
  g_object_set_data_full (G_OBJECT (window), "wkp-bench", b, g_free);

  if (g_str_equal (what, "startup"))
    {
      if (gtk_widget_get_realized (GTK_WIDGET (window)))
        on_realize_startup (GTK_WIDGET (window), b);
      else
        g_signal_connect (window, "realize", G_CALLBACK (on_realize_startup), b);
      return TRUE;
    }
  if (g_str_equal (what, "playback") && (request->video != NULL || request->audio != NULL))
    {
      if (gtk_widget_get_realized (GTK_WIDGET (window)))
        on_realize_playback (GTK_WIDGET (window), b);
      else
        g_signal_connect (window, "realize", G_CALLBACK (on_realize_playback), b);
      g_signal_connect (wkp_studio_window_get_view (window, "frame"), "notify::frame-index",
                        G_CALLBACK (on_index), b);
      wkp_studio_window_open (window, request);
      g_timeout_add (50, wait_ready, b);
      return TRUE;
    }
  g_printerr ("wav2kp-studio: --bench startup | --bench playback FILE\n");
  gtk_window_destroy (GTK_WINDOW (window));
  return FALSE;
}
