"""The curriculum API: browse paths, courses, modules and lessons; enroll; complete lessons; progress.

Browsing paths, courses and modules is open to anyone (like the catalog pages); lessons, enrolling
and progress need a signed-in user.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.markdown import render_markdown
from courses import selectors, services
from courses.exercises import body_public
from courses.filters import CourseFilter, LessonFilter, ModuleFilter
from courses.models import Course, LearningPath, Lesson, Module


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    complete = serializers.BooleanField()


class TagSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class CourseSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    tags = TagSerializer(many=True, read_only=True)
    lesson_total = serializers.IntegerField(read_only=True)
    enrolled = serializers.BooleanField(read_only=True)
    progress = ProgressSerializer(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Course
        fields = [
            "slug",
            "title",
            "summary",
            "level",
            "tags",
            "estimated_hours",
            "published",
            "lesson_total",
            "enrolled",
            "progress",
            "url",
        ]


class LessonOutlineSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    lab = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)  # a lesson may have none

    class Meta:
        model = Lesson
        fields = ["id", "slug", "position", "title", "minutes", "lab"]


class ModuleSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    lessons = LessonOutlineSerializer(many=True, read_only=True)

    class Meta:
        model = Module
        fields = ["id", "course", "slug", "position", "title", "summary", "lessons"]


class CourseDetailSerializer(CourseSerializer):
    modules = ModuleSerializer(many=True, read_only=True)
    prerequisites = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta(CourseSerializer.Meta):
        fields = [*CourseSerializer.Meta.fields, "prerequisites", "modules"]


class PathSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    courses = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = LearningPath
        fields = ["slug", "title", "summary", "published", "courses", "progress", "url"]

    @extend_schema_field(CourseSerializer(many=True))
    def get_courses(self, path: LearningPath) -> list[dict]:
        return CourseSerializer([step.course for step in path.steps.all()], many=True).data

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, path: LearningPath) -> dict:
        return ProgressSerializer(selectors.path_progress(path)).data


class LessonSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    module = serializers.PrimaryKeyRelatedField(read_only=True)
    lab = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)  # a lesson may have none
    title = serializers.CharField(read_only=True)
    body = serializers.SerializerMethodField(
        help_text="Markdown in the request's language; each exercise a note (it is answered on the lesson's page)"
    )
    body_html = serializers.SerializerMethodField(help_text="the body rendered and sanitised; math as .math elements")
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Lesson
        fields = ["id", "course", "module", "slug", "position", "title", "minutes", "lab", "body", "body_html", "url"]

    @extend_schema_field(serializers.CharField())
    def get_body(self, lesson: Lesson) -> str:
        return body_public(lesson.body, lesson.exercises)  # never an exercise's answer, hints or solution

    def get_body_html(self, lesson: Lesson) -> str:
        return str(render_markdown(self.get_body(lesson)))


class _PathsApi(generics.GenericAPIView):
    serializer_class = PathSerializer
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[LearningPath]:
        return selectors.paths_with_courses(self.request.user)


# The list and the detail views share their queryset through a base class: a detail view must not
# inherit from the list view, or ListAPIView.get comes first in the MRO and the detail URL lists.
class PathListApi(_PathsApi, generics.ListAPIView):
    pass


class PathDetailApi(_PathsApi, generics.RetrieveAPIView):
    lookup_field = "slug"


class CourseListApi(generics.ListAPIView):
    serializer_class = CourseSerializer
    permission_classes = [AllowAny]
    filterset_class = CourseFilter

    def get_queryset(self) -> QuerySet[Course]:
        return selectors.catalog_courses(self.request.user)


class CourseDetailApi(generics.RetrieveAPIView):
    serializer_class = CourseDetailSerializer
    permission_classes = [AllowAny]

    def get_object(self) -> Course:
        course = selectors.course_page(self.request.user, self.kwargs["slug"])
        if course is None:
            raise Http404
        return course


class _ModulesApi(generics.GenericAPIView):
    serializer_class = ModuleSerializer
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Module]:
        return selectors.modules_with_lessons(self.request.user)


class ModuleListApi(_ModulesApi, generics.ListAPIView):
    filterset_class = ModuleFilter


class ModuleDetailApi(_ModulesApi, generics.RetrieveAPIView):
    pass


class _LessonsApi(generics.GenericAPIView):
    serializer_class = LessonSerializer

    def get_queryset(self) -> QuerySet[Lesson]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Lesson.objects.none()
        return selectors.lessons_visible(self.request.user)


class LessonListApi(_LessonsApi, generics.ListAPIView):
    filterset_class = LessonFilter


class LessonDetailApi(_LessonsApi, generics.RetrieveAPIView):
    pass


def _refused(refused: services.CourseActionRefused) -> Response:
    missing = [course.slug for course in refused.missing]
    return Response({"errors": [refused.message], "missing_prerequisites": missing}, status.HTTP_400_BAD_REQUEST)


class EnrollmentSerializer(serializers.Serializer):
    course = serializers.CharField(source="course.slug")
    enrolled_at = serializers.DateTimeField()
    progress = ProgressSerializer()


class CourseEnrollApi(APIView):
    """Enroll the signed-in user. 201 when enrolled now, 200 when already enrolled, 400 with the
    unfinished prerequisites when refused."""

    @extend_schema(request=None, responses={200: EnrollmentSerializer, 201: EnrollmentSerializer})
    def post(self, request: Request, slug: str) -> Response:
        course = selectors.courses_visible(request.user).filter(slug=slug).first()
        if course is None:
            raise Http404
        already = selectors.enrollment_of(request.user, course) is not None
        try:
            enrollment = services.enrollment_create(user=request.user, course=course)
        except services.CourseActionRefused as refused:
            return _refused(refused)
        progress = selectors.course_progress(user=request.user, course=course)
        data = EnrollmentSerializer(
            {"course": course, "enrolled_at": enrollment.enrolled_at, "progress": progress}
        ).data
        return Response(data, status=status.HTTP_200_OK if already else status.HTTP_201_CREATED)


class LessonCompleteApi(APIView):
    """POST marks the lesson complete, DELETE marks it not done; both answer the course progress."""

    def _lesson(self, request: Request, lesson_id: int) -> Lesson:
        lesson = selectors.lessons_visible(request.user).filter(pk=lesson_id).first()
        if lesson is None:
            raise Http404
        return lesson

    @extend_schema(request=None, responses=ProgressSerializer)
    def post(self, request: Request, lesson_id: int) -> Response:
        try:
            progress = services.lesson_complete(user=request.user, lesson=self._lesson(request, lesson_id))
        except services.CourseActionRefused as refused:
            return _refused(refused)
        return Response(ProgressSerializer(progress).data)

    @extend_schema(request=None, responses=ProgressSerializer)
    def delete(self, request: Request, lesson_id: int) -> Response:
        try:
            progress = services.lesson_uncomplete(user=request.user, lesson=self._lesson(request, lesson_id))
        except services.CourseActionRefused as refused:
            return _refused(refused)
        return Response(ProgressSerializer(progress).data)


class MyProgressSerializer(serializers.Serializer):
    # not a nested "OutputSerializer": the schema names components by class, and core.api.MeApi has one
    courses = CourseSerializer(many=True)
    paths = PathSerializer(many=True)


class MyProgressApi(APIView):
    @extend_schema(responses=MyProgressSerializer)
    def get(self, request: Request) -> Response:
        courses, paths = selectors.my_progress(request.user)
        return Response(MyProgressSerializer({"courses": courses, "paths": paths}).data)
