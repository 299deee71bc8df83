/**
 * Shapes of delegated authentication and authorization: the answers of TokenReview and
 * SubjectAccessReview (as kube-apiserver returns them) and the front-proxy configuration.
 * @module
 */
import type { X509Certificate } from "node:crypto";

/** An authenticated user, as Kubernetes' user.Info. */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** `status` of an authentication.k8s.io/v1 TokenReview. */
export interface TokenReviewStatus {
  readonly authenticated?: boolean;
  readonly user?: {
    readonly username?: string;
    readonly uid?: string;
    readonly groups?: readonly string[];
    readonly extra?: Readonly<Record<string, readonly string[]>>;
  };
  readonly audiences?: readonly string[];
  readonly error?: string;
}

export interface TokenReviewer {
  /** POSTs a TokenReview; rejects when the review itself fails (not when the token is bad). */
  review(token: string): Promise<TokenReviewStatus>;
}

export interface ResourceAttributes {
  readonly namespace?: string;
  readonly verb: string;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly name?: string;
}

export interface NonResourceAttributes {
  readonly path: string;
  readonly verb: string;
}

/** `spec` of an authorization.k8s.io/v1 SubjectAccessReview. */
export interface SubjectAccessReviewSpec {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
  readonly resourceAttributes?: ResourceAttributes;
  readonly nonResourceAttributes?: NonResourceAttributes;
}

/** `status` of a SubjectAccessReview. */
export interface SubjectAccessReviewStatus {
  readonly allowed: boolean;
  readonly denied?: boolean;
  readonly reason?: string;
  readonly evaluationError?: string;
}

export interface AccessReviewer {
  /** POSTs a SubjectAccessReview; rejects when the review itself fails. */
  review(spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewStatus>;
}

/** The front-proxy (requestheader) part of extension-apiserver-authentication. */
export interface RequestHeaderConfig {
  readonly ca: readonly X509Certificate[];
  /** Empty: any CN the CA signed is accepted. */
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
  readonly uidHeaders: readonly string[];
}

export interface AuthConfig {
  /** CAs for client certificates (user = CN, groups = O). */
  readonly clientCA: readonly X509Certificate[];
  readonly requestHeader?: RequestHeaderConfig;
}

/** The current configuration, kept up to date by a watch of the ConfigMap. */
export interface AuthConfigSource {
  current(): AuthConfig | undefined;
}
