#include "wkp-studio-app.h"
#include "wkp-io.h"
#include "wkp-media.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <signal.h>

#include "wkp-config.h"
#include "wkp-studio-bench.h"
#include "wkp-studio-window.h"

struct _WkpStudioApp
{
  GtkApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (WkpStudioApp, wkp_studio_app, GTK_TYPE_APPLICATION)

static gint64 start_time;

void
wkp_studio_app_set_start_time (gint64 us)
{
  start_time = us;
}

static gboolean
is_audio_path (const char *path)
{
  g_autofree char *type = g_content_type_guess (path, NULL, 0, NULL);
  return g_content_type_is_a (type, "audio/*");
}

const char *
wkp_studio_choose_settings_backend (void)
{
  g_autofree char *bus = NULL;
  if (g_getenv ("GSETTINGS_BACKEND") != NULL || g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL)
    return NULL;
  bus = g_build_filename (g_get_user_runtime_dir (), "bus", NULL);   /* systemd's user bus */
  if (g_file_test (bus, G_FILE_TEST_EXISTS))
    return NULL;
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  return "keyfile";
}

static int
wkp_studio_app_command_line (GApplication *app, GApplicationCommandLine *cmdline)
{
  GVariantDict *options = g_application_command_line_get_options_dict (cmdline);
  g_autofree char *audio = NULL, *landmarks = NULL, *model = NULL, *compare = NULL, *fps_text = NULL, *bench = NULL;
  double position = -1;
  int audio_late = 0;
  g_autofree char *audio_late_text = NULL;
  g_autofree const char **files = NULL;
  gboolean silent = FALSE, training = FALSE;
  WkpOpenRequest request = { 0 };
  WkpStudioWindow *window;
  g_autofree char *video = NULL, *abs_audio = NULL;

  g_variant_dict_lookup (options, "audio", "^ay", &audio);
  g_variant_dict_lookup (options, "landmarks", "^ay", &landmarks);
  g_variant_dict_lookup (options, "model", "^ay", &model);
  g_variant_dict_lookup (options, "compare", "^ay", &compare);
  g_variant_dict_lookup (options, "fps", "s", &fps_text);
  g_variant_dict_lookup (options, "bench", "s", &bench);
  g_variant_dict_lookup (options, "silent", "b", &silent);
  g_variant_dict_lookup (options, "training-curves", "b", &training);
  g_variant_dict_lookup (options, "position", "d", &position);
  g_variant_dict_lookup (options, "audio-late", "s", &audio_late_text);
  g_variant_dict_lookup (options, G_OPTION_REMAINING, "^a&ay", &files);

  if (fps_text != NULL)
    {
      g_autoptr(GError) error = NULL;
      if (!wkp_frame_rate_parse (fps_text, &request.fps, &error))
        {
          g_application_command_line_printerr (cmdline, "wav2kp-studio: --fps %s: %s\n", fps_text, error->message);
          return 2;
        }
    }
  if (audio_late_text != NULL)
    {
      /* decimal, as the CLI reads it ("010" is ten frames) */
      gint64 v = 0;
      if (!g_ascii_string_to_signed (audio_late_text, 10, -WKP_STUDIO_MAX_LATE, WKP_STUDIO_MAX_LATE, &v, NULL))
        {
          g_autofree char *why = g_strdup_printf (_("a whole number of frames, at most %d either way"),
                                                  WKP_STUDIO_MAX_LATE);
          g_application_command_line_printerr (cmdline, "wav2kp-studio: --audio-late %s: %s\n", audio_late_text, why);
          return 2;
        }
      audio_late = (int) v;
    }
  if (files != NULL && (g_strv_length ((char **) files) > 2 || (files[0] != NULL && files[1] != NULL && audio != NULL)))
    {
      g_application_command_line_printerr (cmdline, "%s\n", _("wav2kp-studio: give one media file, or a video and its audio file"));
      return 2;
    }
  /* files named on the command line must exist: say so here rather than in
   * a window that opens without them */
  {
    const char *named[] = { audio, landmarks, model, compare };
    const char *flags[] = { "--audio", "--landmarks", "--model", "--compare" };
    for (guint i = 0; i < G_N_ELEMENTS (named); i++)
      if (named[i] != NULL && !g_file_test (named[i], G_FILE_TEST_IS_REGULAR))
        {
          g_application_command_line_printerr (cmdline, "wav2kp-studio: %s %s: %s\n", flags[i], named[i],
                                               g_file_test (named[i], G_FILE_TEST_IS_DIR) ? _("is a folder, not a file")
                                                                                          : _("no such file"));
          return 2;
        }
  }
  /* comparing the model with itself drew the compared curve exactly under
   * the predicted one and looked as if nothing were compared (QA pass) */
  if (compare != NULL)
    {
      g_autofree char *shown = model != NULL ? g_strdup (model) : wkp_studio_default_model ();
      if (shown != NULL && wkp_path_same_file (compare, shown))
        {
          g_application_command_line_printerr (cmdline, "wav2kp-studio: --compare %s: %s\n", compare,
                                               _("is the model already shown; compare another model"));
          return 2;
        }
    }

  /* one file (video or audio alone), or a video and its audio in any order */
  for (int i = 0; files != NULL && i < 2 && files[i] != NULL; i++)
    {
      g_autoptr(GFile) f = g_application_command_line_create_file_for_arg (cmdline, files[i]);
      char *path = g_file_get_path (f);
      gboolean pair = files[1] != NULL;
      if (is_audio_path (path) && audio == NULL && abs_audio == NULL && (!pair || video != NULL || i == 0))
        abs_audio = path;
      else if (video == NULL)
        video = path;
      else
        {
          g_application_command_line_printerr (cmdline, "wav2kp-studio: %s: %s\n", files[i],
                                               _("give one video and one audio file"));
          g_free (path);
          return 2;
        }
    }
  if (audio != NULL && abs_audio == NULL)
    {
      g_autoptr(GFile) f = g_application_command_line_create_file_for_arg (cmdline, audio);
      abs_audio = g_file_get_path (f);
    }
  /* a prepared dataset: the main window, and the dataset's clips beside it */
  if (video != NULL && abs_audio == NULL && wkp_dataset_window_is_dataset (video))
    {
      window = wkp_studio_window_new (GTK_APPLICATION (app), silent || bench != NULL);
      gtk_window_present (GTK_WINDOW (window));
      wkp_studio_window_set_models (window, model, compare);
      wkp_studio_window_open_dataset (window, video);
      if (training)
        wkp_studio_window_show_training (window, model, compare);
      return 0;
    }
  /* one frame of an image sequence opens the whole sequence, as in the Open
   * dialog; so does the folder that holds it (a `wav2kp frames` folder was
   * refused with its pattern) */
  if (video != NULL)
    {
      char *pattern = g_file_test (video, G_FILE_TEST_IS_DIR) ? wkp_media_folder_sequence (video)
                                                              : wkp_studio_sequence_for_frame (video);
      if (pattern != NULL)
        {
          g_free (video);
          video = pattern;
        }
    }
  /* so must the clip itself (an image-sequence pattern is checked when read) */
  {
    const char *clip[] = { video, abs_audio };
    for (guint i = 0; i < G_N_ELEMENTS (clip); i++)
      if (clip[i] != NULL && !wkp_media_is_pattern (clip[i]) && !g_file_test (clip[i], G_FILE_TEST_EXISTS))
        {
          g_application_command_line_printerr (cmdline, "wav2kp-studio: %s: %s\n", clip[i], _("no such file"));
          return 2;
        }
  }
  window = wkp_studio_window_new (GTK_APPLICATION (app), silent || bench != NULL);
  gtk_window_present (GTK_WINDOW (window));

  request.video = video;
  request.audio = abs_audio;
  request.landmarks = landmarks;
  request.model = model;
  request.compare_model = compare;
  request.audio_late = audio_late;

  if (bench != NULL)
    return wkp_studio_bench_start (window, bench, &request, start_time) ? 0 : 2;

  if (request.video != NULL || request.audio != NULL)
    {
      wkp_studio_window_open (window, &request);
      if (position >= 0)
        wkp_studio_window_seek_when_ready (window, (gint64) (position * 1e6));
    }
  if (training)
    wkp_studio_window_show_training (window, model, compare);
  return 0;
}

static void
action_quit (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  /* over a copy: destroying a window takes it out of the application's
   * list (and the main window's dispose destroys the Dataset and Training
   * Curves windows), so walking the live list read freed links; once it
   * went round forever, 10 million "gtk_window_destroy: assertion
   * 'GTK_IS_WINDOW (window)' failed" in 30 s (studio QA) */
  GList *windows = g_list_copy_deep (gtk_application_get_windows (GTK_APPLICATION (user_data)),
                                     (GCopyFunc) (void (*) (void)) g_object_ref, NULL);
  for (GList *l = windows; l != NULL; l = l->next)
    if (WKP_IS_STUDIO_WINDOW (l->data))
      wkp_studio_window_cancel_tasks (l->data);   /* (an export holds the application until it has stopped) */
  for (GList *l = windows; l != NULL; l = l->next)
    if (g_list_find (gtk_application_get_windows (GTK_APPLICATION (user_data)), l->data) != NULL)
      gtk_window_destroy (l->data);
  g_list_free_full (windows, g_object_unref);
}

static void
action_about (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  const char *authors[] = { "wav2kp contributors", NULL };
  gtk_show_about_dialog (gtk_application_get_active_window (GTK_APPLICATION (user_data)),
                         "program-name", _("wav2kp Studio"),
                         "logo-icon-name", "org.wav2kp.Studio",
                         "version", WKP_VERSION,
                         "comments", _("Speech in, facial keypoints out: video, landmarks, audio features and predicted mouth keypoints on one timeline"),
                         "license-type", GTK_LICENSE_MIT_X11,
                         "authors", authors,
                         NULL);
}

static const GActionEntry app_entries[] = {
  { "quit", action_quit, NULL, NULL, NULL, { 0 } },
  { "about", action_about, NULL, NULL, NULL, { 0 } },
};

/* SIGTERM, SIGINT, SIGHUP: close the windows as Quit does, so that what they
 * hold on disk (the Matroska copies of MPEG-PS clips) is removed */
static gboolean
on_quit_signal (gpointer app)
{
  static gboolean asked;
  /* a second signal ends the main loop even if a window did not close */
  if (asked)
    g_application_quit (G_APPLICATION (app));
  asked = TRUE;
  action_quit (NULL, NULL, app);
  return G_SOURCE_CONTINUE;
}

static void
wkp_studio_app_startup (GApplication *app)
{
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "win.open", { "<Control>o", NULL } },
    { "win.export", { "<Control>e", NULL } },
    { "win.training-curves", { "<Control>t", NULL } },
    { "win.play-pause", { "space", NULL } },
    { "win.step-back", { "Left", NULL } },
    { "win.step-forward", { "Right", NULL } },
    { "win.go-start", { "Home", NULL } },
    { "win.go-end", { "End", NULL } },
    { "win.zoom-in", { "<Control>plus", "<Control>equal", NULL } },
    { "win.zoom-out", { "<Control>minus", NULL } },
    { "win.slower", { "bracketleft", NULL } },
    { "win.faster", { "bracketright", NULL } },
    { "win.sound-late-more", { "<Control>bracketright", NULL } },
    { "win.sound-late-less", { "<Control>bracketleft", NULL } },
    { "win.loop", { "l", NULL } },
    { "win.clear-selection", { "Escape", NULL } },
    { "win.select-in", { "i", NULL } },
    { "win.select-out", { "o", NULL } },
    { "win.select-back", { "<Shift>Left", NULL } },
    { "win.select-forward", { "<Shift>Right", NULL } },
    { "win.show-help-overlay", { "<Control>question", "F1", NULL } },
  };

  G_APPLICATION_CLASS (wkp_studio_app_parent_class)->startup (app);
  g_unix_signal_add (SIGTERM, on_quit_signal, app);
  g_unix_signal_add (SIGINT, on_quit_signal, app);
  g_unix_signal_add (SIGHUP, on_quit_signal, app);
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_entries, G_N_ELEMENTS (app_entries), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action, accels[i].accels);
  gtk_window_set_default_icon_name ("org.wav2kp.Studio");
  if (gdk_display_get_default () != NULL)
    {
      g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();
      gtk_css_provider_load_from_resource (css, "/org/wav2kp/Studio/style.css");
      gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    }
}

static void
wkp_studio_app_class_init (WkpStudioAppClass *klass)
{
  G_APPLICATION_CLASS (klass)->command_line = wkp_studio_app_command_line;
  G_APPLICATION_CLASS (klass)->startup = wkp_studio_app_startup;
}

static void
wkp_studio_app_init (WkpStudioApp *self)
{
  static const GOptionEntry entries[] = {
    { "audio", 'a', 0, G_OPTION_ARG_FILENAME, NULL, N_("Audio file to pair with a silent video"), N_("FILE") },
    { "landmarks", 'l', 0, G_OPTION_ARG_FILENAME, NULL, N_("Landmark file to show instead of extracting"), N_("FILE") },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, NULL, N_("Model to predict with (default: the shipped model)"), N_("MODEL") },
    { "compare", 'c', 0, G_OPTION_ARG_FILENAME, NULL, N_("A second model to compare with (e.g. another checkpoint)"), N_("MODEL") },
    { "fps", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Frame rate of an image sequence (e.g. 25 or 30000/1001)"), N_("RATE") },
    { "training-curves", 't', 0, G_OPTION_ARG_NONE, NULL, N_("Also show how the model (and the compared model) was trained"), NULL },
    { "position", 0, 0, G_OPTION_ARG_DOUBLE, NULL, N_("Open the clip at this time"), N_("SECONDS") },
    { "audio-late", 0, 0, G_OPTION_ARG_STRING, NULL, N_("The sound comes this many frames after the pictures (negative: before): move it back into place"), N_("FRAMES") },
    { "silent", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Play without sound (the picture keeps the audio clock)"), NULL },
    { "bench", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, NULL, "Measure startup or playback and quit", "startup|playback" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, NULL, NULL },
    { NULL }
  };
  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[FILE] [AUDIO-FILE]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Show a talking-face clip's video, landmarks, audio features and predicted mouth keypoints on one timeline."));
}

WkpStudioApp *
wkp_studio_app_new (void)
{
  return g_object_new (WKP_TYPE_STUDIO_APP,
                       "application-id", "org.wav2kp.Studio",
                       "flags", G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/org/wav2kp/Studio",
                       NULL);
}
