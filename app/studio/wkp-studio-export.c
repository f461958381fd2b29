#include "wkp-studio-export.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "wkp-export.h"
#include "wkp-io.h"

typedef struct {
  WkpStudioClip   *clip;
  char            *output;
  gint64           start_frame, end_frame;
  WkpProgressFunc  progress;
  gpointer         progress_data;
} ExportTask;

static void
export_task_free (gpointer data)
{
  ExportTask *t = data;
  wkp_studio_clip_unref (t->clip);
  g_free (t->output);
  g_free (t);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportTask *t = task_data;
  const WkpStudioClip *clip = t->clip;
  WkpExportParams params;
  GError *error = NULL;
  g_autofree char *name = wkp_studio_clip_title (clip);
  const char *pred_label = clip->predicted_canon != NULL ? clip->model_name : NULL;
  const char *comp_label = clip->compared_canon != NULL ? clip->compared_name : NULL;
  g_autofree char *title = wkp_export_caption (name, clip->audio_late, pred_label, comp_label);

  /* (audio alone is framed at the rate it was opened at: the model's, unless given) */
  WkpSourceSpec spec = { clip->video, clip->audio, clip->video == NULL ? clip->fps : clip->fps_hint };
  /* the model heard 16 kHz; the audience hears the source's own rate */
  g_autoptr(WkpAudio) listening = wkp_clip_audio_load_for_listening (&spec, clip->n_frames, cancellable, &error);
  if (listening == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  wkp_audio_shift_frames (listening, clip->audio_late, clip->fps);   /* heard as the predictions heard it */

  wkp_export_params_init_default (&params);
  params.video = clip->has_video ? clip->video : NULL;
  params.fps = clip->fps;
  params.n_frames = clip->n_frames;
  params.audio = listening;
  params.predicted = clip->predicted_canon != NULL ? g_bytes_get_data (clip->predicted_canon, NULL) : NULL;
  params.compared = clip->compared_canon != NULL ? g_bytes_get_data (clip->compared_canon, NULL) : NULL;
  params.reference = clip->track != NULL && clip->track->n_frames == clip->n_frames ? clip->track->points : NULL;
  params.title = title;
  params.predicted_label = pred_label;
  params.compared_label = comp_label;
  params.start_frame = t->start_frame;
  params.end_frame = t->end_frame;
  if (wkp_export_clip (&params, t->output, t->progress, t->progress_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
wkp_studio_export_async (WkpStudioClip *clip, const char *output, gint64 start_frame, gint64 end_frame,
                         WkpProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  ExportTask *t = g_new0 (ExportTask, 1);

  t->clip = wkp_studio_clip_ref (clip);
  t->output = g_strdup (output);
  t->start_frame = start_frame;
  t->end_frame = end_frame;
  t->progress = progress;
  t->progress_data = progress_data;
  g_task_set_task_data (task, t, export_task_free);
  g_task_set_name (task, "[wkp] export clip");
  if (!(clip->parts & WKP_CLIP_PART_MEDIA) || clip->n_frames <= 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Nothing to export: the clip could not be read"));
      return;
    }
  {
    const char *inputs[] = { clip->video, clip->audio, clip->landmarks_file, clip->model_file };
    for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
      if (wkp_path_same_file (output, inputs[i]))
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_EXISTS,
                                   _("Cannot write %s: it is one of the clip's own files; choose another name"),
                                   output);
          return;
        }
  }
  if (clip->predicted_canon == NULL && clip->track == NULL && !clip->has_video)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Nothing to export: no video, landmarks or prediction"));
      return;
    }
  g_task_run_in_thread (task, export_thread);
}

gboolean
wkp_studio_export_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

char *
wkp_studio_export_folder (const char *last_folder)
{
  const char *videos = g_get_user_special_dir (G_USER_DIRECTORY_VIDEOS);
  if (last_folder != NULL && *last_folder != '\0' && g_file_test (last_folder, G_FILE_TEST_IS_DIR)
      && g_access (last_folder, W_OK) == 0)
    return g_strdup (last_folder);
  if (videos != NULL && g_file_test (videos, G_FILE_TEST_IS_DIR) && g_access (videos, W_OK) == 0)
    return g_strdup (videos);
  return g_strdup (g_get_home_dir ());
}

char *
wkp_studio_export_name_problem (const char *path)
{
  g_autofree char *base = NULL, *list = NULL;
  const char *dot;
  if (wkp_export_container_for (path) != NULL)
    return NULL;
  base = g_path_get_basename (path);
  dot = strrchr (base, '.');
  list = g_strjoinv (", ", (char **) wkp_export_extensions ());
  if (dot == NULL || dot == base)
    /* TRANSLATORS: the file name typed in the Export dialog, then the extensions that can be exported */
    return g_strdup_printf (_("“%s” has no extension. A presentation clip is H.264 video with AAC sound: "
                              "end its name with one of %s."), base, list);
  /* TRANSLATORS: the file name typed in the Export dialog, its extension, then the extensions that can be exported */
  return g_strdup_printf (_("“%s”: a presentation clip cannot be written as %s. It is H.264 video with AAC "
                            "sound: end its name with one of %s."), base, dot, list);
}
