/* wkp-export.h: presentation clips.
 *
 * Renders, frame by frame with Cairo, the video (when there is one) with its
 * extracted landmarks drawn over it, the mouth in the canonical face frame
 * (extracted in blue and solid, predicted in orange and dashed, a compared
 * model in purple and dotted, as in the studio), and the inner-lip aperture over
 * time with a playhead; encodes H.264 (libx264) + AAC into an MP4 through
 * libavcodec/libavformat. The file appears only when complete.
 */
#pragma once

#include "wkp-face.h"
#include "wkp-media.h"

G_BEGIN_DECLS

typedef struct {
  const char     *video;       /* background video or image pattern, or NULL */
  WkpRational     fps;         /* frame rate of the tracks (and of the video) */
  gint64          n_frames;
  const WkpAudio *audio;       /* muxed as AAC when non-NULL; sample 0 = frame 0 */
  const float    *predicted;   /* [n_frames, 68, 2] canonical frame, or NULL */
  const float    *compared;    /* a second model's, the same way (dashed), or NULL */
  const float    *reference;   /* [n_frames, 68, 2] video pixels (NaN = no face), or NULL */
  const char     *predicted_label; /* legend name of the prediction (e.g. the model file), or NULL: "predicted" */
  const char     *compared_label;  /* the same for the compared one, or NULL: "compared" */
  const char     *title;       /* caption, or NULL */
  int             height;      /* output height of the face panels (480) */
  int             crf;         /* x264 quality (20) */
  gint64          start_frame; /* an excerpt: the frames [start_frame, end_frame) of the clip, */
  gint64          end_frame;   /* its sound with them; end_frame 0 = to the end (0, 0: all) */
} WkpExportParams;

void     wkp_export_params_init_default (WkpExportParams *params);

/* The caption the studio and `render` give a clip: "clip · model" or
 * "clip · model vs compared" (labels may be NULL); a clip whose sound was
 * moved @audio_late frames earlier (WkpClipAudio.audio_late) says so after
 * its name: "clip (sound 9 frames earlier) · model". */
char    *wkp_export_caption (const char *clip_name, int audio_late, const char *predicted_label,
                             const char *compared_label);

/* How a presentation clip sets @title within @max_w pixels at drawing unit
 * @unit (1 at 480-pixel panels): one line, else two (broken at the " · "
 * before the model names), then smaller type, then cut with "…". Fills
 * @lines (free each; lines[1] NULL for one line) and *@size (font size);
 * returns the number of lines. */
int      wkp_export_title_lines (const char *title, double max_w, double unit, char **lines, double *size);

/* The names a clip may be exported under: ".mp4", ".m4v", ".mov", ".mkv"
 * (NULL-terminated); the libavformat container @path's extension asks for
 * ("mp4", "mov", "matroska"), or NULL when it names none of them (the clip
 * is refused: asking in a file dialog lets the user correct the name). */
const char *const *wkp_export_extensions    (void);
const char        *wkp_export_container_for (const char *path);

gboolean wkp_export_clip (const WkpExportParams *params, const char *output,
                          WkpProgressFunc progress, gpointer progress_data,
                          GCancellable *cancellable, GError **error);

G_END_DECLS
