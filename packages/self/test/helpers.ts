/** The shared method-test helpers of @kdbench/core/testing/steps. */
export * from '@kdbench/core/testing/steps';
