"""Who the API server says the caller is: the name a request (an approval, an abort) is signed
with, never a name the caller types."""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException


def current_user(api: client.ApiClient) -> str:
    """The username of these credentials, from a SelfSubjectReview (Kubernetes 1.28+)."""
    try:
        review: Any = client.AuthenticationV1Api(api).create_self_subject_review(
            client.V1SelfSubjectReview()
        )
    except ApiException as error:
        raise RuntimeError(
            f"the API server would not say who these credentials are ({error.status} "
            f"{error.reason}); SelfSubjectReview needs Kubernetes 1.28 or later"
        ) from error
    return str(review.status.user_info.username)
