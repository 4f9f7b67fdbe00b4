from django.urls import path

from . import views

urlpatterns = [
    path("datasets/", views.DatasetListView.as_view()),
    path("datasets/<int:dataset_id>/", views.DatasetDetailView.as_view()),
    path("datasets/<int:dataset_id>/items/", views.DatasetItemListView.as_view()),
    path("datasets/<int:dataset_id>/items/<int:item_id>/", views.DatasetItemView.as_view()),
    path("datasets/<int:dataset_id>/add-run/", views.DatasetAddRunView.as_view()),
    path("datasets/<int:dataset_id>/import/", views.DatasetImportView.as_view()),
    path("datasets/<int:dataset_id>/export/", views.DatasetExportView.as_view()),
    path("datasets/<int:dataset_id>/sampling/", views.DatasetSamplingView.as_view()),
    path("evals/", views.EvalListView.as_view()),
    path("evals/scorers/", views.ScorerTypesView.as_view()),
    path("evals/<str:eval_id>/", views.EvalDetailView.as_view()),
    path("evals/<str:eval_id>/compare/<str:other_id>/", views.EvalCompareView.as_view()),
    path("graphs/<int:graph_id>/eval-policy/", views.GraphEvalPolicyView.as_view()),
]
