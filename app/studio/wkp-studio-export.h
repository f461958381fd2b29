/* wkp-studio-export.h: "Export Clip…": the open clip rendered as a
 * presentation MP4 (engine/wkp-export.c) on a worker thread, with what the
 * studio shows: the video with its landmarks, the predicted and extracted
 * mouth, the aperture, the audio. */
#pragma once

#include <gio/gio.h>

#include "wkp-studio-clip.h"
#include "wkp-error.h"

G_BEGIN_DECLS

/* @clip must be complete (no open job filling it). @progress runs on the
 * worker thread. The file appears only when complete. @start_frame and
 * @end_frame: an excerpt, frames [start, end) (0, 0: the whole clip). */
void     wkp_studio_export_async  (WkpStudioClip *clip, const char *output, gint64 start_frame,
                                   gint64 end_frame, WkpProgressFunc progress,
                                   gpointer progress_data, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
gboolean wkp_studio_export_finish (GAsyncResult *result, GError **error);

/* The folder the Export dialog opens in: @last_folder (where the clip was
 * opened from) when it is a folder we may write to, else the user's Videos
 * folder, else home (media on a read-only mount, a shared corpus). */
char    *wkp_studio_export_folder (const char *last_folder);

/* Why @path cannot be exported (a sentence for the Export dialog, naming
 * the extensions that can: the engine's list, wkp_export_extensions ()), or
 * NULL when its name asks for a container a presentation clip is written
 * in. */
char    *wkp_studio_export_name_problem (const char *path);

G_END_DECLS
