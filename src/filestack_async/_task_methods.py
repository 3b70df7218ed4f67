"""`TaskMethods`: one typed method per processing task, shared by Filelink and Transformation.

Every method validates its arguments against the catalogue in `_tasks` and returns
a new `Transformation`; nothing is sent until an async method (``store``,
``av_convert``, ``get_content``, ``download``...) is awaited. Parameter names are
those of the official Python SDK, so code ports by adding ``await`` where a call
does I/O.

Example:
    >>> from filestack_async import Filelink
    >>> link = Filelink("AbCdEfGhIjKlMnOpQrSt")
    >>> link.resize(width=300).flip().url
    'https://cdn.filestackcontent.com/resize=width:300/flip/AbCdEfGhIjKlMnOpQrSt'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ._tasks import build_task, task_for_method

if TYPE_CHECKING:
    from ._av import AudioVisual
    from ._filelink import Filelink
    from ._security import Security
    from ._transform import Transformation

#: A colour: hex without ``#`` (``FF0000``, ``FF000080``) or a name (``white``).
Color = str
Fit = Literal["clip", "crop", "scale", "max"]
#: ``center``, ``top``, ``bottom``, ``left``, ``right``, ``faces``, or a pair ``["top", "left"]``.
Align = Literal["center", "top", "bottom", "left", "right", "faces"] | Sequence[str]
#: ``top``/``middle``/``bottom``/``left``/``center``/``right``, or a pair like ``["top", "left"]``.
Position = Literal["top", "middle", "bottom", "left", "center", "right"] | Sequence[str]
#: ``"all"``, one face number, or a list of face numbers (from 1).
Faces = Literal["all"] | int | Sequence[int]
Shape = Literal["rect", "oval"]
#: ``[x, y, width, height]`` in pixels.
Rect = Sequence[int]
#: Page numbers or ranges: ``[1, 3, "5-7", "9-"]``.
Pages = Sequence[int | str]
PageFormat = Literal["a2", "a3", "a4", "a5", "b4", "b5", "letter", "legal", "tabloid"]
Orientation = Literal["portrait", "landscape"]
Location = Literal["S3", "s3", "gcs", "azure", "rackspace", "dropbox"]
Access = Literal["public", "private"]
EnhancePreset = Literal[
    "auto",
    "vivid",
    "beautify",
    "beautify_plus",
    "fix_dark",
    "fix_noise",
    "fix_tint",
    "outdoor",
    "fireworks",
]
OutputFormat = Literal[
    "doc",
    "docx",
    "html",
    "jpg",
    "odp",
    "ods",
    "odt",
    "pjpg",
    "pdf",
    "png",
    "ppt",
    "pptx",
    "svg",
    "txt",
    "webp",
    "xls",
    "xlsx",
    "gif",
    "bmp",
    "tiff",
    "heic",
]
AspectMode = Literal["preserve", "constrain", "letterbox", "pad", "crop"]


class TaskMethods:
    """The processing task methods of `Filelink` and `Transformation`.

    A subclass provides ``_transformation()``: the chain a new task is appended to.
    """

    __slots__ = ()

    def _transformation(self) -> Transformation:
        raise TypeError(f"{type(self).__name__} does not support processing tasks")

    def _add(self, method: str, **params: object) -> Transformation:
        task = build_task(task_for_method(method).name, params)
        return self._transformation()._with_task(task)

    # -- image transformations -----------------------------------------------------

    def resize(
        self,
        width: int | None = None,
        height: int | None = None,
        fit: Fit | None = None,
        align: Align | None = None,
    ) -> Transformation:
        """Resize (``resize=height:500,width:500``); give width, height or both (1..10000)."""
        return self._add("resize", width=width, height=height, fit=fit, align=align)

    def crop(self, dim: Rect | None = None) -> Transformation:
        """Crop to ``dim=[x, y, width, height]`` (``crop=dim:[0,0,100,100]``)."""
        return self._add("crop", dim=dim)

    def rotate(
        self,
        deg: int | Literal["exif"] | None = None,
        exif: bool | None = None,
        background: Color | None = None,
    ) -> Transformation:
        """Rotate clockwise by ``deg`` (0..359) or by the EXIF orientation (``"exif"``)."""
        return self._add("rotate", deg=deg, exif=exif, background=background)

    def flip(self) -> Transformation:
        """Mirror top to bottom (``flip``)."""
        return self._add("flip")

    def flop(self) -> Transformation:
        """Mirror left to right (``flop``)."""
        return self._add("flop")

    def watermark(
        self,
        file: str | None = None,
        size: int | None = None,
        position: Position | None = None,
    ) -> Transformation:
        """Overlay the image with handle ``file`` (size 1..500 percent)."""
        return self._add("watermark", file=file, size=size, position=position)

    def detect_faces(
        self,
        minsize: float | None = None,
        maxsize: float | None = None,
        color: Color | None = None,
        export: bool | None = None,
    ) -> Transformation:
        """Outline faces; ``export=True`` answers JSON coordinates."""
        return self._add(
            "detect_faces", minsize=minsize, maxsize=maxsize, color=color, export=export
        )

    def crop_faces(
        self,
        mode: Literal["thumb", "crop", "fill"] | None = None,
        width: int | None = None,
        height: int | None = None,
        faces: Faces | None = None,
        buffer: int | None = None,
    ) -> Transformation:
        """Crop to the detected faces."""
        return self._add(
            "crop_faces", mode=mode, width=width, height=height, faces=faces, buffer=buffer
        )

    def pixelate_faces(
        self,
        faces: Faces | None = None,
        minsize: float | None = None,
        maxsize: float | None = None,
        buffer: int | None = None,
        amount: int | None = None,
        blur: float | None = None,
        type: Shape | None = None,
    ) -> Transformation:
        """Pixelate the detected faces (amount 2..100, blur 0..20)."""
        return self._add(
            "pixelate_faces",
            faces=faces,
            minsize=minsize,
            maxsize=maxsize,
            buffer=buffer,
            amount=amount,
            blur=blur,
            type=type,
        )

    def round_corners(
        self,
        radius: int | Literal["max"] | None = None,
        blur: float | None = None,
        background: Color | None = None,
    ) -> Transformation:
        """Round the corners (sent as ``round_corners``, like the official Python SDK)."""
        return self._add("round_corners", radius=radius, blur=blur, background=background)

    def vignette(
        self,
        amount: int | None = None,
        blurmode: Literal["linear", "gaussian"] | None = None,
        background: Color | None = None,
    ) -> Transformation:
        """Fade the edges (amount 0..100)."""
        return self._add("vignette", amount=amount, blurmode=blurmode, background=background)

    def polaroid(
        self,
        color: Color | None = None,
        rotate: int | None = None,
        background: Color | None = None,
    ) -> Transformation:
        """A polaroid frame, optionally rotated (0..359)."""
        return self._add("polaroid", color=color, rotate=rotate, background=background)

    def torn_edges(
        self, spread: Sequence[int] | None = None, background: Color | None = None
    ) -> Transformation:
        """Torn paper edges; ``spread=[min, max]``."""
        return self._add("torn_edges", spread=spread, background=background)

    def shadow(
        self,
        blur: float | None = None,
        opacity: int | None = None,
        vector: Sequence[int] | None = None,
        color: Color | None = None,
        background: Color | None = None,
    ) -> Transformation:
        """A drop shadow offset by ``vector=[x, y]``."""
        return self._add(
            "shadow", blur=blur, opacity=opacity, vector=vector, color=color, background=background
        )

    def circle(self, background: Color | None = None) -> Transformation:
        """Crop to a circle (``circle`` or ``circle=background:red``)."""
        return self._add("circle", background=background)

    def border(
        self,
        width: int | None = None,
        color: Color | None = None,
        background: Color | None = None,
    ) -> Transformation:
        """Add a border ``width`` pixels wide (1..1000)."""
        return self._add("border", width=width, color=color, background=background)

    def sharpen(self, amount: int | None = None) -> Transformation:
        """Sharpen (amount 0..20)."""
        return self._add("sharpen", amount=amount)

    def blur(self, amount: int | None = None) -> Transformation:
        """Gaussian blur (amount 1..20)."""
        return self._add("blur", amount=amount)

    def monochrome(self) -> Transformation:
        """Greyscale (``monochrome``)."""
        return self._add("monochrome")

    def blackwhite(self, threshold: int | None = None) -> Transformation:
        """Pure black and white at ``threshold`` percent (0..100)."""
        return self._add("blackwhite", threshold=threshold)

    def sepia(self, tone: int | None = None) -> Transformation:
        """Sepia (tone 0..100)."""
        return self._add("sepia", tone=tone)

    def pixelate(self, amount: int | None = None) -> Transformation:
        """Pixelate with blocks of ``amount`` pixels (2..100)."""
        return self._add("pixelate", amount=amount)

    def oil_paint(self, amount: int | None = None) -> Transformation:
        """Oil paint effect (amount 2..100)."""
        return self._add("oil_paint", amount=amount)

    def negative(self) -> Transformation:
        """Invert the colours (``negative``)."""
        return self._add("negative")

    def modulate(
        self,
        brightness: int | None = None,
        hue: int | None = None,
        saturation: int | None = None,
    ) -> Transformation:
        """Brightness and saturation in percent (100 = unchanged), hue in degrees."""
        return self._add("modulate", brightness=brightness, hue=hue, saturation=saturation)

    def partial_pixelate(
        self,
        amount: int | None = None,
        blur: float | None = None,
        type: Shape | None = None,
        objects: Sequence[Rect] | None = None,
    ) -> Transformation:
        """Pixelate the rectangles ``objects=[[x, y, w, h], ...]``."""
        return self._add("partial_pixelate", amount=amount, blur=blur, type=type, objects=objects)

    def partial_blur(
        self,
        amount: float | None = None,
        blur: float | None = None,
        type: Shape | None = None,
        objects: Sequence[Rect] | None = None,
    ) -> Transformation:
        """Blur the rectangles ``objects=[[x, y, w, h], ...]``."""
        return self._add("partial_blur", amount=amount, blur=blur, type=type, objects=objects)

    def collage(
        self,
        files: Sequence[str] | None = None,
        margin: int | None = None,
        width: int | None = None,
        height: int | None = None,
        color: Color | None = None,
        fit: Literal["auto", "crop"] | None = None,
        autorotate: bool | None = None,
    ) -> Transformation:
        """A ``width`` x ``height`` collage of this image and the handles in ``files``."""
        return self._add(
            "collage",
            files=files,
            margin=margin,
            width=width,
            height=height,
            color=color,
            fit=fit,
            autorotate=autorotate,
        )

    def upscale(
        self,
        upscale: bool | None = None,
        noise: Literal["none", "low", "medium", "high"] | None = None,
        style: Literal["artwork", "photo"] | None = None,
    ) -> Transformation:
        """Super-resolution upscale."""
        return self._add("upscale", upscale=upscale, noise=noise, style=style)

    def enhance(self, preset: EnhancePreset | None = None) -> Transformation:
        """Automatic enhancement, optionally with a ``preset``."""
        return self._add("enhance", preset=preset)

    def redeye(self) -> Transformation:
        """Remove red eyes (``redeye``)."""
        return self._add("redeye")

    def ascii(
        self,
        background: Color | None = None,
        foreground: Color | None = None,
        colored: bool | None = None,
        size: int | None = None,
        reverse: bool | None = None,
    ) -> Transformation:
        """ASCII art as HTML (size 10..100)."""
        return self._add(
            "ascii",
            background=background,
            foreground=foreground,
            colored=colored,
            size=size,
            reverse=reverse,
        )

    def filetype_conversion(
        self,
        format: OutputFormat | None = None,
        background: Color | None = None,
        page: int | None = None,
        density: int | None = None,
        compress: bool | None = None,
        quality: int | Literal["input"] | None = None,
        strip: bool | None = None,
        colorspace: Literal["rgb", "cmyk", "input"] | None = None,
        secure: bool | None = None,
        docinfo: bool | None = None,
        pageformat: PageFormat | None = None,
        pageorientation: Orientation | None = None,
    ) -> Transformation:
        """Convert to ``format`` (sent as ``output=format:png``)."""
        return self._add(
            "filetype_conversion",
            format=format,
            background=background,
            page=page,
            density=density,
            compress=compress,
            quality=quality,
            strip=strip,
            colorspace=colorspace,
            secure=secure,
            docinfo=docinfo,
            pageformat=pageformat,
            pageorientation=pageorientation,
        )

    def no_metadata(self) -> Transformation:
        """Strip metadata (``no_metadata``)."""
        return self._add("no_metadata")

    def quality(self, value: int | None = None) -> Transformation:
        """Output quality 1..100 (``quality=value:75``)."""
        return self._add("quality", value=value)

    def compress(self, metadata: bool | None = None) -> Transformation:
        """Optimise the file size (``compress``); not in the official Python SDK."""
        return self._add("compress", metadata=metadata)

    def zip(self) -> Transformation:
        """Zip the source file(s) (``zip``)."""
        return self._add("zip")

    def fallback(self, file: str | None = None, cache: int | None = None) -> Transformation:
        """Serve handle ``file`` if processing fails (cache in seconds)."""
        return self._add("fallback", file=file, cache=cache)

    def pdf_info(self, colorinfo: bool | None = None) -> Transformation:
        """PDF information as JSON (sent as ``pdfinfo``)."""
        return self._add("pdf_info", colorinfo=colorinfo)

    def pdf_convert(
        self,
        pageorientation: Orientation | None = None,
        pageformat: PageFormat | None = None,
        pages: Pages | None = None,
        metadata: bool | None = None,
    ) -> Transformation:
        """Rework a PDF's pages (sent as ``pdfconvert``)."""
        return self._add(
            "pdf_convert",
            pageorientation=pageorientation,
            pageformat=pageformat,
            pages=pages,
            metadata=metadata,
        )

    def minify_js(
        self,
        gzip: bool | None = None,
        use_babel_polyfill: bool | None = None,
        keep_fn_name: bool | None = None,
        keep_class_name: bool | None = None,
        mangle: bool | None = None,
        merge_vars: bool | None = None,
        remove_console: bool | None = None,
        remove_undefined: bool | None = None,
        targets: str | None = None,
    ) -> Transformation:
        """Minify JavaScript; ``targets`` is a browserslist query."""
        return self._add(
            "minify_js",
            gzip=gzip,
            use_babel_polyfill=use_babel_polyfill,
            keep_fn_name=keep_fn_name,
            keep_class_name=keep_class_name,
            mangle=mangle,
            merge_vars=merge_vars,
            remove_console=remove_console,
            remove_undefined=remove_undefined,
            targets=targets,
        )

    def minify_css(
        self, level: Literal[1, 2] | None = None, gzip: bool | None = None
    ) -> Transformation:
        """Minify CSS (level 1 or 2)."""
        return self._add("minify_css", level=level, gzip=gzip)

    def auto_image(self) -> Transformation:
        """Pick the best image format for the browser (``auto_image``)."""
        return self._add("auto_image")

    def doc_to_images(
        self,
        pages: Pages | None = None,
        engine: Literal["imagemagick", "mupdf"] | None = None,
        format: Literal["png", "jpg"] | None = None,
        quality: int | None = None,
        density: int | None = None,
        hidden_slides: bool | None = None,
    ) -> Transformation:
        """Render document pages as images."""
        return self._add(
            "doc_to_images",
            pages=pages,
            engine=engine,
            format=format,
            quality=quality,
            density=density,
            hidden_slides=hidden_slides,
        )

    def smart_crop(
        self,
        mode: Literal["face", "object", "auto"] | None = None,
        width: int | None = None,
        height: int | None = None,
        fill_color: Color | None = None,
        coords: bool | None = None,
    ) -> Transformation:
        """Content-aware crop to ``width`` x ``height``."""
        return self._add(
            "smart_crop",
            mode=mode,
            width=width,
            height=height,
            fill_color=fill_color,
            coords=coords,
        )

    def pdfcreate(self, engine: str | None = None) -> Transformation:
        """One PDF from several files (use on `Client.transform_handles`)."""
        return self._add("pdfcreate", engine=engine)

    def animate(
        self,
        delay: int | None = None,
        loop: int | None = None,
        width: int | None = None,
        height: int | None = None,
        fit: Fit | None = None,
        align: Align | None = None,
        background: Color | None = None,
    ) -> Transformation:
        """An animated GIF of several images (use on `Client.transform_handles`)."""
        return self._add(
            "animate",
            delay=delay,
            loop=loop,
            width=width,
            height=height,
            fit=fit,
            align=align,
            background=background,
        )

    # -- tasks that run now --------------------------------------------------------

    async def store(
        self,
        filename: str | None = None,
        location: Location | None = None,
        path: str | None = None,
        container: str | None = None,
        region: str | None = None,
        access: Access | None = None,
        base64decode: bool | None = None,
        workflows: Sequence[str] | None = None,
        *,
        security: Security | None = None,
    ) -> Filelink:
        """Store the result and return its new `Filelink` (signed when security is set).

        Example:
            >>> new = await link.resize(width=100).store(path="/thumbs/")  # doctest: +SKIP
        """
        task = build_task(
            "store",
            {
                "filename": filename,
                "location": location,
                "path": path,
                "container": container,
                "region": region,
                "access": access,
                "base64decode": base64decode,
                "workflows": workflows,
            },
        )
        return await self._transformation()._store(task, security)

    async def av_convert(
        self,
        *,
        preset: str | None = None,
        force: bool | None = None,
        title: str | None = None,
        extname: str | None = None,
        filename: str | None = None,
        width: int | None = None,
        height: int | None = None,
        upscale: bool | None = None,
        aspect_mode: AspectMode | None = None,
        two_pass: bool | None = None,
        video_bitrate: int | None = None,
        fps: int | None = None,
        keyframe_interval: int | None = None,
        location: Location | None = None,
        watermark_url: str | None = None,
        watermark_top: int | None = None,
        watermark_bottom: int | None = None,
        watermark_right: int | None = None,
        watermark_left: int | None = None,
        watermark_width: int | None = None,
        watermark_height: int | None = None,
        path: str | None = None,
        access: Access | None = None,
        container: str | None = None,
        audio_bitrate: int | None = None,
        audio_sample_rate: int | None = None,
        audio_channels: int | None = None,
        clip_length: str | None = None,
        clip_offset: str | None = None,
        security: Security | None = None,
    ) -> AudioVisual:
        """Start an audio/video conversion (``video_convert``) and return its `AudioVisual`.

        Example:
            >>> av = await link.av_convert(preset="h264", width=320)  # doctest: +SKIP
            >>> converted = await av.wait_until_complete()  # doctest: +SKIP
        """
        task = build_task(
            "video_convert",
            {
                "preset": preset,
                "force": force,
                "title": title,
                "extname": extname,
                "filename": filename,
                "width": width,
                "height": height,
                "upscale": upscale,
                "aspect_mode": aspect_mode,
                "two_pass": two_pass,
                "video_bitrate": video_bitrate,
                "fps": fps,
                "keyframe_interval": keyframe_interval,
                "location": location,
                "watermark_url": watermark_url,
                "watermark_top": watermark_top,
                "watermark_bottom": watermark_bottom,
                "watermark_right": watermark_right,
                "watermark_left": watermark_left,
                "watermark_width": watermark_width,
                "watermark_height": watermark_height,
                "path": path,
                "access": access,
                "container": container,
                "audio_bitrate": audio_bitrate,
                "audio_sample_rate": audio_sample_rate,
                "audio_channels": audio_channels,
                "clip_length": clip_length,
                "clip_offset": clip_offset,
            },
        )
        return await self._transformation()._av_convert(task, security)
