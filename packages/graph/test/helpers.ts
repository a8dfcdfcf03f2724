/** Core's hand-made test inputs (`@kdbench/core/testing/handmade`), with the metadata check of this family. */
import type { Hyper, MethodDefinition } from '@kdbench/core';
import { expectRelationMetadata } from '@kdbench/core/testing/handmade';

export * from '@kdbench/core/testing/handmade';

export const expectMetadata = (def: MethodDefinition<Hyper>, defaults: Hyper, urlPart: string): void =>
  expectRelationMetadata(def, defaults, urlPart, 'graph');
