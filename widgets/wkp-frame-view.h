/* wkp-frame-view.h: the current video frame, letterboxed, with the extracted
 * landmarks drawn over it. The view model is a texture, its frame index and
 * 68 landmark points in the texture's pixel coordinates. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define WKP_TYPE_FRAME_VIEW (wkp_frame_view_get_type ())
G_DECLARE_FINAL_TYPE (WkpFrameView, wkp_frame_view, WKP, FRAME_VIEW, GtkWidget)

GtkWidget *wkp_frame_view_new           (void);
/* @texture may be NULL (no picture); @index is the displayed frame index. */
void       wkp_frame_view_set_frame     (WkpFrameView *self, GdkTexture *texture, gint64 index);
gint64     wkp_frame_view_get_index     (WkpFrameView *self);
GdkTexture *wkp_frame_view_get_texture  (WkpFrameView *self);
/* Size of the source picture in which landmark coordinates are expressed
 * (used when there is no texture; otherwise the texture's size). */
void       wkp_frame_view_set_source_size (WkpFrameView *self, int width, int height);
/* 68 (x, y) pairs in source pixels, NaN where unknown; NULL clears. Copied. */
void       wkp_frame_view_set_landmarks (WkpFrameView *self, const float *points);
/* Text shown when there is no picture. */
const char *wkp_frame_view_get_placeholder (WkpFrameView *self);
void       wkp_frame_view_set_placeholder (WkpFrameView *self, const char *text);

/* The rectangle (widget coordinates) the picture occupies at the given
 * widget size: aspect-preserving, centred. FALSE if there is no source size. */
gboolean   wkp_frame_view_compute_letterbox (int src_w, int src_h, double width, double height,
                                             graphene_rect_t *out);

/* Mouth Only's view: the part of the picture (source pixels) shown, of
 * width / height @aspect, centred on the mouth of the 68 @points and sized
 * by the face. FALSE without a mouth. */
gboolean   wkp_frame_view_mouth_crop        (const float *points, double aspect, graphene_rect_t *out);

/* The order in which the indices of points @first .. @last are labelled
 * (spread out first: every 8th, then every 4th, 2nd, the rest), written to
 * @order; returns the count. Labels that would overlap one drawn earlier
 * are left out. */
int        wkp_frame_view_index_order       (int first, int last, int *order);

G_END_DECLS
