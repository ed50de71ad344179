/**
 * A workflow interceptor module for tests only (bundled with `workflowInterceptorModules`): every
 * workflow of that bundle takes `driftSearchAttributeSignal` and upserts one keyword attribute to a
 * value its state does not hold, as a workflow that missed an upsert would carry it (issue #11's stale
 * EcoStatus), or removes it (null), as a workflow from before the attribute existed carries none. It issues the very command a complaint workflow issues; no production code knows it.
 */
import { SearchAttributeType } from '@temporalio/common';
import { defineSignal, setHandler, upsertSearchAttributes, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { allSearchAttributes } from '../../domain/search-attributes';

export const driftSearchAttributeSignal = defineSignal<[{ name: string; value: string | null }]>('test:driftSearchAttribute');

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      execute(input, next) {
        setHandler(driftSearchAttributeSignal, ({ name, value }) => {
          const key = allSearchAttributes.find((k) => k.name === name && k.type === SearchAttributeType.KEYWORD);
          if (!key) throw new Error(`${name} is not a keyword search attribute of ours`);
          upsertSearchAttributes([{ key: key as typeof key & { type: 'KEYWORD' }, value }]);
        });
        return next(input);
      },
    },
  ],
});
